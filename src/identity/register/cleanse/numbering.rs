//! Texts as numbers, so that a scan of millions keeps eight bytes per key and groups by
//! sorting: a text of the kind's own shape is its own number; any other gets a number above
//! every such one, the same each time it is seen (a register may hold malformed keys).

use std::collections::HashMap;
use std::marker::PhantomData;

/// The numbers a kind of text keeps for itself, below [`ODD`].
pub(super) trait Shape {
    fn own(text: &str) -> Option<u64>;
    fn text(n: u64) -> String;
}

const ODD: u64 = 1 << 62;

pub(super) struct Numbering<S> {
    odd: Vec<String>,
    odd_index: HashMap<String, u64>,
    shape: PhantomData<S>,
}

impl<S> Default for Numbering<S> {
    fn default() -> Self {
        Numbering {
            odd: Vec::new(),
            odd_index: HashMap::new(),
            shape: PhantomData,
        }
    }
}

impl<S: Shape> Numbering<S> {
    /// The number of `text`, where it has one without being seen (its own, or seen before).
    pub fn code(&self, text: &str) -> Option<u64> {
        S::own(text).or_else(|| self.odd_index.get(text).copied())
    }

    pub fn num(&mut self, text: &str) -> u64 {
        if let Some(n) = self.code(text) {
            return n;
        }
        let n = ODD + self.odd.len() as u64;
        self.odd.push(text.to_string());
        self.odd_index.insert(text.to_string(), n);
        n
    }

    pub fn text(&self, n: u64) -> String {
        match n.checked_sub(ODD) {
            Some(i) => self.odd.get(i as usize).cloned().unwrap_or_default(),
            None => S::text(n),
        }
    }
}

/// ID numbers: twelve digits are their value (the import's set of ID numbers holds the same).
pub(super) struct IdNumber;

impl Shape for IdNumber {
    fn own(text: &str) -> Option<u64> {
        (text.len() == 12 && text.bytes().all(|c| c.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    }

    fn text(n: u64) -> String {
        format!("{n:012}")
    }
}

/// CMND numbers: up to 17 digits are their value tagged with their length (`025…` and `25…`
/// stay apart), so the scan keeps the numbers themselves, not hashes, and the suspects'
/// numbers need no second read of the aliases.
pub(super) struct Digits;

impl Shape for Digits {
    fn own(text: &str) -> Option<u64> {
        if !(1..=17).contains(&text.len()) || !text.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some((text.len() as u64) << 57 | text.parse::<u64>().ok()?)
    }

    fn text(n: u64) -> String {
        format!("{:0w$}", n & ((1 << 57) - 1), w = (n >> 57) as usize)
    }
}

pub(super) type Ids = Numbering<IdNumber>;
pub(super) type Values = Numbering<Digits>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_their_value_and_odd_ones_are_remembered() {
        let mut ids = Ids::default();
        assert_eq!(ids.num("079301000123"), 79_301_000_123);
        assert_eq!(ids.text(79_301_000_123), "079301000123");
        let odd = ids.num("A-1");
        assert_eq!(ids.num("A-1"), odd);
        assert_eq!(ids.text(odd), "A-1");
        assert!(odd > 999_999_999_999);
    }

    #[test]
    fn cmnd_numbers_are_numbers_that_give_their_text_back() {
        let mut v = Values::default();
        let texts = [
            "025123456",
            "25123456",
            "079301000123",
            "0",
            "A-12",
            "",
            "1234567890123456789",
        ];
        for text in texts {
            let n = v.num(text);
            assert_eq!(v.text(n), text);
            assert_eq!(v.code(text), Some(n));
        }
        assert_ne!(v.num("025123456"), v.num("25123456"));
        assert_eq!(Values::default().code("B-7"), None, "not seen");
    }
}
