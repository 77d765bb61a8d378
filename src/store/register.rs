//! What the register's cleansing report asks of the system of record (issue #18): one scan of
//! the persons and one of the CMND aliases, each a stream of narrow rows in table order (no
//! sort, no index walk, no temporary B-tree), and the full records of the few persons whose
//! groups turn out suspect. The grouping and judging are in `identity::register::cleanse`.

use async_trait::async_trait;
use unicode_normalization::UnicodeNormalization;

use super::{PersonRecord, StoreResult};

/// One person as the cleansing scan reads them: only the columns its groupings need.
/// `phone`, `household_id` and `residence` are opaque keys — equal values give equal keys
/// within one scan (SQLite sends them hex-encoded) — since the checks only compare them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanRow<'a> {
    pub id_number: &'a str,
    pub match_key: Option<i64>,
    pub phone: Option<&'a str>,
    pub household_id: Option<&'a str>,
    pub household_relation: Option<&'a str>,
    pub residence: Option<&'a str>,
    /// `YYYY-MM-DD`
    pub birth_date: &'a str,
    pub nationality: &'a str,
    pub card_expires_on: Option<&'a str>,
    pub deceased: bool,
}

/// Where a scan's rows go, one at a time.
pub type ScanSink<'a, T> = &'a mut (dyn FnMut(T) + Send);
/// Where the persons scan's rows go (each borrowed for the call only).
pub type PersonSink<'a> = &'a mut (dyn for<'r> FnMut(ScanRow<'r>) + Send);

/// At most this many rows of persons are fetched for one check's suspect groups: memory stays
/// bounded on a register in any state; a report that hit it says so.
pub const SUSPECT_ROWS: usize = 200_000;

#[async_trait]
pub trait RegisterChecks: Send + Sync {
    /// How many persons are on file.
    async fn count_persons(&self) -> StoreResult<u64>;
    /// Every person, in table order, as a [`ScanRow`].
    async fn scan_persons(&self, each: PersonSink<'_>) -> StoreResult<()>;
    /// Every `cmnd` alias as (ID number, CMND), in table order.
    async fn scan_cmnd(&self, each: ScanSink<'_, (String, String)>) -> StoreResult<()>;
    /// The persons with these ID numbers (those on file), in no particular order.
    async fn persons_by_ids(&self, ids: &[String]) -> StoreResult<Vec<PersonRecord>>;
    /// ID numbers of the deceased whose account is not locked.
    async fn deceased_with_open_account(&self) -> StoreResult<Vec<String>>;
    /// Write the [`match_key`] of records that have none (written before it existed);
    /// returns how many.
    async fn fill_match_keys(&self) -> StoreResult<u64>;
}

/// A name folded for comparison: NFC, lowercase, inner whitespace collapsed — case- and
/// space-insensitive, accent-aware ("Nguyễn" ≠ "Nguyen": different names).
pub fn fold_name(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    let spaced = nfc.split_whitespace().collect::<Vec<_>>().join(" ");
    spaced.to_lowercase().nfc().collect()
}

/// The register's person match key: 64-bit FNV-1a over the folded name, birth date and sex.
/// Stable across releases (it is stored); collisions are re-checked on the fields themselves.
pub fn match_key(full_name: &str, birth_date: &str, sex: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let folded = fold_name(full_name);
    for part in [folded.as_str(), birth_date.trim(), sex.trim()] {
        for b in part.bytes().chain([0x1f]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_match_key_ignores_case_and_spacing_not_accents() {
        let k = match_key("Nguyễn Văn An", "1990-05-15", "male");
        assert_eq!(k, match_key("  NGUYỄN  văn an", "1990-05-15", "male"));
        assert_eq!(
            k,
            match_key(
                "Nguye\u{0302}\u{0303}n Va\u{0306}n An",
                "1990-05-15",
                "male"
            )
        );
        assert_ne!(k, match_key("Nguyen Van An", "1990-05-15", "male"));
        assert_ne!(k, match_key("Nguyễn Văn An", "1990-05-16", "male"));
        assert_ne!(k, match_key("Nguyễn Văn An", "1990-05-15", "female"));
    }
}
