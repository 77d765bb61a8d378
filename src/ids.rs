//! Identifiers with rules, used by every layer: a relying party's `client_id` and an account's
//! `sub`. Each is checked once, where it enters (a request, a token, a stored session), and
//! then carried as its own type, so one cannot be passed where the other belongs and a value
//! that broke the rules never reaches a query, a log line or a token.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

/// Why a value is not an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    Empty,
    /// Longer than [`MAX_LEN`].
    TooLong,
    /// A character outside the identifier's alphabet.
    Character,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdError::Empty => "empty",
            IdError::TooLong => "longer than 255 characters",
            IdError::Character => "holds a character an identifier may not",
        })
    }
}

impl std::error::Error for IdError {}

/// OpenID Connect Core §2 caps `sub` at 255 ASCII characters; `client_id` has the same cap
/// here (RFC 6749 sets none, and nothing longer is ever registered).
pub const MAX_LEN: usize = 255;

fn check(v: &str, allowed: impl Fn(u8) -> bool) -> Result<(), IdError> {
    if v.is_empty() {
        Err(IdError::Empty)
    } else if v.len() > MAX_LEN {
        Err(IdError::TooLong)
    } else if !v.bytes().all(allowed) {
        Err(IdError::Character)
    } else {
        Ok(())
    }
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $allowed:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Check `v` against the rules.
            pub fn parse(v: impl Into<String>) -> Result<Self, IdError> {
                let v = v.into();
                check(&v, $allowed)?;
                Ok(Self(v))
            }

            /// A value the store gives back: it was checked on its way in, and a row must not
            /// become unreadable because a rule was tightened after it was written.
            pub fn stored(v: String) -> Self {
                Self(v)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(v: String) -> Result<Self, IdError> {
                Self::parse(v)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

identifier!(
    /// A relying party's `client_id`: visible ASCII (RFC 6749 Appendix A.1, `VSCHAR`, here
    /// without the space), 1 to 255 characters. Registered ones are 128-bit random, base64url.
    ClientId,
    |b| (0x21..=0x7e).contains(&b)
);

identifier!(
    /// An account's `sub`: stable, never reassigned, case-sensitive; visible ASCII, 1 to 255
    /// characters (OpenID Connect Core §2). Ours are 128-bit random, base64url, and say nothing
    /// of the person.
    Subject,
    |b| (0x21..=0x7e).contains(&b)
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(ClientId::parse("portal-01").is_ok());
        assert_eq!(ClientId::parse(""), Err(IdError::Empty));
        assert_eq!(ClientId::parse("a b"), Err(IdError::Character));
        assert_eq!(ClientId::parse("tên"), Err(IdError::Character));
        assert_eq!(ClientId::parse("a\n"), Err(IdError::Character));
        assert_eq!(Subject::parse("x".repeat(256)), Err(IdError::TooLong));
        assert!(Subject::parse("x".repeat(255)).is_ok());
    }

    #[test]
    fn serde_checks_on_the_way_in() {
        let s: Subject = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s, "abc");
        assert!(serde_json::from_str::<Subject>("\"\"").is_err());
        assert!(serde_json::from_str::<ClientId>("\"a b\"").is_err());
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"abc\"");
    }

    proptest::proptest! {
        /// Any string either parses to itself or is refused for a stated reason; what parses
        /// is visible ASCII of 1..=255 bytes, and survives a serde round trip.
        #[test]
        fn parse_is_exact(v in ".{0,300}") {
            match Subject::parse(v.clone()) {
                Ok(s) => {
                    proptest::prop_assert_eq!(s.as_str(), v.as_str());
                    proptest::prop_assert!(!v.is_empty() && v.len() <= MAX_LEN);
                    proptest::prop_assert!(v.bytes().all(|b| (0x21..=0x7e).contains(&b)));
                    let json = serde_json::to_string(&s).unwrap();
                    proptest::prop_assert_eq!(serde_json::from_str::<Subject>(&json).unwrap(), s);
                }
                Err(IdError::Empty) => proptest::prop_assert!(v.is_empty()),
                Err(IdError::TooLong) => proptest::prop_assert!(v.len() > MAX_LEN),
                Err(IdError::Character) => {
                    proptest::prop_assert!(v.bytes().any(|b| !(0x21..=0x7e).contains(&b)))
                }
            }
        }
    }

    #[test]
    fn one_is_not_the_other() {
        // Compile-time: a Subject cannot be passed as a ClientId. At run time both compare
        // with plain strings.
        let c = ClientId::parse("abc").unwrap();
        assert_eq!(c.as_str(), "abc");
        assert_eq!(format!("{c}"), "abc");
    }
}
