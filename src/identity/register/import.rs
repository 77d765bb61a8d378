//! Importing a register file at speed, safely: the file is read as a stream (memory bounded
//! by eight batches, plus 8 bytes per ID number seen, to report repeats), rows are validated
//! one by one while earlier batches are written, and each batch is classified in one read —
//! new, changed, or unchanged by its content hash — and written with its history entry, all
//! or nothing (a store may commit several batches at once). An import stopped half-way leaves
//! whole batches only; running it again finds what was written unchanged and completes the
//! rest. Accounts the register says to lock are locked after their batch, or — an import that
//! writes alone, whose store may hold the writer across batches — once everything is written.

use std::io::BufRead;

use futures_util::StreamExt;

use serde_json::{Value, json};

use super::cleanse::{self, FileTally};
use super::{FieldError, ImportReport, date_of, lifecycle, split_csv_line, validate_row};
use crate::clock::UnixTime;
use crate::store::{AliasRecord, Durable, Entry, PeopleBatch, PersonRecord, StoreError};

/// Rows classified and written together. A batch is a transaction on PostgreSQL (and on
/// SQLite for an upload to a running server; the command line's import groups several per
/// commit, see `store::sql::bulk`): at 2 000 rows a first import of a million wrote gigabytes
/// of log. Not large: eight batches are in memory at once, and at 10 000 rows they were the
/// larger part of a first import's peak (~1 KB a row) — 4 000 took it from 235–261 MiB to
/// 210–212 on SQLite, and more batches in flight keep PostgreSQL's backends as busy.
pub const BATCH: usize = 4_000;
/// At most this many rejected rows are listed (all are counted).
pub const LISTED: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line naming the columns, then RFC 4180 rows.
    Csv,
    /// One JSON object per line, members named like the CSV columns.
    JsonLines,
}

impl Format {
    /// By the file name: `.jsonl` / `.ndjson` are JSON Lines, anything else CSV.
    pub fn of(path: &str) -> Format {
        if path.ends_with(".jsonl") || path.ends_with(".ndjson") {
            Format::JsonLines
        } else {
            Format::Csv
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading the file: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How to import: classify only (`dry_run`: nothing written, nothing locked), and what to
/// call after each batch (progress: the report so far and the bytes read).
pub struct Options<'a> {
    pub format: Format,
    pub dry_run: bool,
    /// Who imports, as the history names them (`cli`, `officer:ID`, `register`).
    pub actor: &'a str,
    pub progress: &'a mut (dyn FnMut(&ImportReport, u64) + Send),
    /// The cleansing report's checks after the write (`None`: none; a dry run has none).
    pub cleanse: Option<cleanse::Options>,
    /// Nothing else in this process writes meanwhile (the command line; not an upload to a
    /// running server, whose sign-ins must not wait behind the import).
    pub alone: bool,
}

/// The content that makes a record: every register field and its aliases, hashed. Two rows
/// with the same content are the same record, whenever they were read.
pub fn content_hash(p: &PersonRecord, aliases: &[AliasRecord]) -> String {
    let mut a: Vec<(&str, &str)> = aliases
        .iter()
        .map(|a| (a.kind.as_str(), a.value.as_str()))
        .collect();
    a.sort_unstable();
    let doc = json!([
        p.id_number,
        p.full_name,
        p.birth_date,
        p.sex,
        p.nationality,
        p.phone,
        p.email,
        p.residence,
        p.birth_place,
        p.household_id,
        p.household_relation,
        p.card_expires_on,
        p.deceased_on,
        a
    ]);
    crate::crypto::digest_hex_bytes(doc.to_string().as_bytes())
}

/// A valid row: its line, the record, its aliases and their content hash (hashed here, on the
/// reading side, which yields every few rows: hashed in one go per batch on the writing side it
/// kept the task from sending the store its next statement for tens of milliseconds).
type Valid = (usize, PersonRecord, Vec<AliasRecord>, String);

/// What the reading side learns row by row: the report's row counts and rejections, and the
/// cleansing tally.
struct Reading {
    report: ImportReport,
    tally: FileTally,
    today: String,
    header: Option<Vec<String>>,
}

impl Reading {
    /// One line of the file: a valid row to write, or nothing (header, blank, rejected,
    /// repeated).
    fn line(&mut self, text: &str, no: usize, format: Format, now: UnixTime) -> Option<Valid> {
        if text.trim().is_empty() {
            return None;
        }
        if format == Format::Csv && self.header.is_none() {
            let cells = split_csv_line(text).into_iter();
            self.header = Some(cells.map(|h| h.trim().to_string()).collect());
            return None;
        }
        let report = &mut self.report;
        report.rows += 1;
        let row = match format {
            Format::Csv => csv_row(self.header.as_deref().unwrap_or_default(), text, no, now),
            Format::JsonLines => json_row(text, no, now),
        };
        let (person, aliases) = match row {
            Ok(ok) => ok,
            Err(errs) => {
                report.invalid_count += 1;
                let room = LISTED.saturating_sub(report.invalid.len());
                report.invalid.extend(errs.into_iter().take(room));
                return None;
            }
        };
        let key = person.id_number.parse::<u64>().unwrap_or(u64::MAX);
        if !self.tally.ids.insert(key) {
            report.duplicates_count += 1;
            if report.duplicates.len() < LISTED {
                report.duplicates.push(FieldError {
                    line: no,
                    field: "id_number".into(),
                    rule: "id_number appears more than once in the file; the first row was kept"
                        .into(),
                });
            }
            return None;
        }
        self.tally.note(no, &person, &aliases, &self.today);
        let hash = content_hash(&person, &aliases);
        Some((no, person, aliases, hash))
    }
}

/// Batches at the store at once. On PostgreSQL each is a transaction on its own backend, and
/// three left a quarter of both cores idle while each waited for its commit and look-up
/// (first import of a million: 49 000 rows/s with three of 5 000 rows, 63 000 with six of
/// 4 000).
const IN_FLIGHT: usize = 6;

/// Rows read between two chances for the writing side to send its next statement.
const YIELD_EVERY: usize = 64;

/// Import `reader` into the register.
///
/// Reading and writing overlap: the file is read and its rows validated and hashed while the
/// batches before are written (one batch waits between them), so the store's threads — or
/// PostgreSQL's backends — work while this one parses.
pub async fn import_stream<R: BufRead>(
    db: &dyn Durable,
    mut reader: R,
    opts: Options<'_>,
    now: UnixTime,
) -> Result<ImportReport, ImportError> {
    let reading = std::sync::Mutex::new(Reading {
        report: ImportReport {
            dry_run: opts.dry_run,
            ..Default::default()
        },
        tally: FileTally::default(),
        today: date_of(now),
        header: None,
    });
    let (format, mode) = (opts.format, (opts.dry_run, opts.actor, opts.alone));
    let (tx, rx) = tokio::sync::mpsc::channel::<(Vec<Valid>, u64)>(1);
    let read = async {
        let (mut line, mut no, mut bytes) = (String::new(), 0usize, 0u64);
        let mut batch: Vec<Valid> = Vec::with_capacity(BATCH);
        loop {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 {
                break;
            }
            (no, bytes) = (no + 1, bytes + n as u64);
            let text = line.trim_end_matches(['\n', '\r']);
            let valid = lock(&reading).line(text, no, format, now);
            batch.extend(valid);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if tx.send((full, bytes)).await.is_err() {
                    break; // the writing side stopped on an error, which it reports
                }
            } else if no % YIELD_EVERY == 0 {
                tokio::task::yield_now().await;
            }
        }
        let _ = tx.send((batch, bytes)).await;
        drop(tx);
        Ok::<_, ImportError>(())
    };
    let progress = opts.progress;
    let write =
        async {
            // Several batches at the store at once, each its own transaction: one's look-up and
            // commit wait beside another's write (on PostgreSQL each on its own backend; with two
            // at a time the cores sat idle a fifth of a first import). Results in file order.
            let batches = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|b| (b, rx))
            });
            let mut flushed = std::pin::pin!(
                batches
                    .map(|(batch, bytes)| async move { (flush(db, batch, mode, now).await, bytes) })
                    .buffered(IN_FLIGHT)
            );
            let mut lockable = Vec::new();
            while let Some((counted, bytes)) = flushed.next().await {
                let mut counted = counted?;
                lockable.append(&mut counted.lockable);
                let mut r = lock(&reading);
                r.report.add(counted);
                progress(&r.report, bytes);
            }
            Ok::<_, ImportError>(lockable)
        };
    let (read, written) = tokio::join!(read, write);
    let ended = db.end_bulk_load().await;
    let lockable = written?;
    read?;
    ended?;
    let Reading {
        mut report,
        mut tally,
        ..
    } = reading.into_inner().unwrap_or_else(|e| e.into_inner());
    // Writing alone, once the records that say so are committed (see `flush`).
    for (id, reason) in lockable {
        if lifecycle::lock_from_register(db, &id, reason, now).await? {
            report.locked(id, reason);
        }
    }
    if let (Some(checks), false) = (opts.cleanse, opts.dry_run) {
        tally.rows = report.rows as u64;
        tally.rejected = (report.invalid_count + report.duplicates_count) as u64;
        for id in &report.locked_deceased {
            cleanse::add_to(
                &mut tally.deceased_locked,
                cleanse::locked_finding(id.clone(), true),
            );
        }
        report.cleansing = Some(cleanse::file(db, tally, checks, now).await?);
    }
    Ok(report)
}

/// The reading state; a panic elsewhere while it was held leaves it usable (it holds counts).
fn lock(m: &std::sync::Mutex<Reading>) -> std::sync::MutexGuard<'_, Reading> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn csv_row(header: &[String], text: &str, no: usize, now: UnixTime) -> super::RowResult {
    let cells = split_csv_line(text);
    let get = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|p| cells.get(p))
            .cloned()
            .unwrap_or_default()
    };
    validate_row(no, get, now)
}

fn json_row(text: &str, no: usize, now: UnixTime) -> super::RowResult {
    let obj = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => o,
        _ => {
            return Err(vec![FieldError {
                line: no,
                field: "(line)".into(),
                rule: "not a JSON object".into(),
            }]);
        }
    };
    let get = |name: &str| match obj.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    validate_row(no, get, now)
}

/// What one batch did: the accounts it locked, and those it says to lock once the store has
/// committed it (an import that writes alone; none in a dry run).
#[derive(Default)]
struct Counted {
    imported: usize,
    updated: usize,
    unchanged: usize,
    locked: Vec<(String, lifecycle::LockReason)>,
    lockable: Vec<(String, lifecycle::LockReason)>,
}

impl ImportReport {
    fn add(&mut self, c: Counted) {
        self.imported += c.imported;
        self.updated += c.updated;
        self.unchanged += c.unchanged;
        for (id, reason) in c.locked {
            self.locked(id, reason);
        }
    }

    fn locked(&mut self, id: String, reason: lifecycle::LockReason) {
        if reason == lifecycle::LockReason::Deceased {
            self.locked_deceased.push(id.clone());
        }
        self.locked.push(id);
    }
}

/// Classify a batch by content hash (one read) and write what is new or changed with its
/// history entry (all or nothing); lock the accounts the register says must be locked — or,
/// writing alone, name them, to be locked once the store has committed the batch (a lock
/// needs the writer such an import holds).
async fn flush(
    db: &dyn Durable,
    batch: Vec<Valid>,
    (dry_run, actor, alone): (bool, &str, bool),
    now: UnixTime,
) -> Result<Counted, StoreError> {
    let mut report = Counted::default();
    if batch.is_empty() {
        return Ok(report);
    }
    let lines = (batch[0].0, batch[batch.len() - 1].0);
    let ids: Vec<String> = batch.iter().map(|(_, p, ..)| p.id_number.clone()).collect();
    let known = db.person_hashes(&ids).await?;
    let today = date_of(now);
    // New records apart from those on file that changed (see `upsert_people`).
    let (mut new, mut changed) = (Written::default(), Written::default());
    for (_, person, a, hash) in batch {
        if let Some(reason) = lock_reason(&person, &today) {
            report.lockable.push((person.id_number.clone(), reason));
        }
        let to = match known.get(&person.id_number) {
            Some(Some(h)) if *h == hash => {
                report.unchanged += 1;
                continue;
            }
            Some(_) => &mut changed,
            None => &mut new,
        };
        to.aliases.extend(a);
        to.people.push((person, hash));
    }
    (report.imported, report.updated) = (new.people.len(), changed.people.len());
    if dry_run {
        report.lockable.clear();
        return Ok(report);
    }
    if report.imported + report.updated > 0 {
        let counts = (report.imported, report.updated);
        let entry = crate::audit::entry(history(actor, lines, counts), now);
        let history = Entry {
            record: &entry,
            link: &crate::audit::link,
        };
        db.upsert_people(new.batch(), changed.batch(), history, alone)
            .await?;
    }
    if !alone {
        for (id, reason) in std::mem::take(&mut report.lockable) {
            if lifecycle::lock_from_register(db, &id, reason, now).await? {
                report.locked.push((id, reason));
            }
        }
    }
    Ok(report)
}

/// Records of a batch to write, and their aliases.
#[derive(Default)]
struct Written {
    people: Vec<(PersonRecord, String)>,
    aliases: Vec<AliasRecord>,
}

impl Written {
    fn batch(&self) -> PeopleBatch<'_> {
        PeopleBatch {
            people: &self.people,
            aliases: &self.aliases,
        }
    }
}

/// The register says the account must not be used: a death, or a card past its expiry.
fn lock_reason(p: &PersonRecord, today: &str) -> Option<lifecycle::LockReason> {
    match (&p.deceased_on, &p.card_expires_on) {
        (Some(_), _) => Some(lifecycle::LockReason::Deceased),
        (None, Some(exp)) if exp.as_str() < today => Some(lifecycle::LockReason::CardExpired),
        _ => None,
    }
}

/// One history entry per batch written: which lines, how many new and changed records.
fn history(
    actor: &str,
    (first, last): (usize, usize),
    (imported, updated): (usize, usize),
) -> crate::audit::Event {
    crate::audit::Event {
        actor: actor.into(),
        action: crate::audit::actions::REGISTER_UPDATED,
        detail: json!({"lines": [first, last], "imported": imported, "updated": updated}),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(kind: &str, value: &str) -> AliasRecord {
        AliasRecord {
            kind: kind.into(),
            value: value.into(),
            id_number: "079301000123".into(),
        }
    }

    #[test]
    fn the_content_hash_is_of_the_content_only() {
        let p = PersonRecord {
            id_number: "079301000123".into(),
            full_name: "Võ Thị Hồng".into(),
            created_at: 1,
            updated_at: 1,
            ..Default::default()
        };
        let a = [alias("cmnd", "025123456"), alias("bhyt", "HC4790123456789")];
        let b = [a[1].clone(), a[0].clone()];
        let later = PersonRecord {
            created_at: 9,
            updated_at: 9,
            ..p.clone()
        };
        assert_eq!(
            content_hash(&p, &a),
            content_hash(&later, &b),
            "times and order aside"
        );
        let moved = PersonRecord {
            residence: Some("Hà Nội".into()),
            ..p.clone()
        };
        assert_ne!(content_hash(&p, &a), content_hash(&moved, &a));
        assert_ne!(content_hash(&p, &a), content_hash(&p, &a[..1]));
    }

    #[test]
    fn the_format_follows_the_file_name() {
        assert_eq!(Format::of("r.jsonl"), Format::JsonLines);
        assert_eq!(Format::of("r.ndjson"), Format::JsonLines);
        assert_eq!(Format::of("r.csv"), Format::Csv);
    }
}
