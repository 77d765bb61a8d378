//! Vietnamese names: stored in Unicode NFC as registered; compared case- and
//! whitespace-insensitively but accent-aware ("Nguyễn" ≠ "Nguyen": different names).

use unicode_normalization::UnicodeNormalization;

/// NFC, trimmed, inner whitespace collapsed to single spaces.
pub fn normalize(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn key(s: &str) -> String {
    crate::store::register::fold_name(s)
}

pub fn matches(a: &str, b: &str) -> bool {
    key(a) == key(b)
}

/// A plausible personal name: letters (any script), spaces, and `' - .`; 1–100 characters.
pub fn check(s: &str) -> Result<String, &'static str> {
    let n = normalize(s);
    if n.is_empty() {
        return Err("must not be empty");
    }
    if n.chars().count() > 100 {
        return Err("must be at most 100 characters");
    }
    if !n
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '-' | '.') || is_combining(c))
    {
        return Err("may contain only letters, spaces, apostrophes, hyphens and dots");
    }
    Ok(n)
}

fn is_combining(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_space_insensitive_but_accent_aware() {
        // "Nguyễn" precomposed vs. decomposed (e + combining marks) is the same name.
        let decomposed = "Nguye\u{0302}\u{0303}n Va\u{0306}n An";
        assert!(matches("Nguyễn Văn An", decomposed));
        assert!(matches("  NGUYỄN   văn an ", "Nguyễn Văn An"));
        assert!(!matches("Nguyen Van An", "Nguyễn Văn An"));
        assert!(!matches("Nguyễn Văn Ân", "Nguyễn Văn An"));
        assert_eq!(normalize(decomposed), "Nguyễn Văn An");
    }

    #[test]
    fn name_rules() {
        assert_eq!(check(" Trần  Thị Bình ").unwrap(), "Trần Thị Bình");
        assert!(check("   ").is_err());
        assert!(check("Robert'); DROP TABLE--").is_err());
        assert!(check(&"a".repeat(101)).is_err());
    }
}
