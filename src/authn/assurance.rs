//! How strongly a person signed in: the `acr` (Decree 69/2024/NĐ-CP Art. 20 authentication
//! levels) and `amr` (RFC 8176) a set of methods earns. See docs/assurance.md.
//!
//! Art. 20 counts *different* factors and asks, from level 3 up, that one of them be
//! biometric. The provider vouches only for what it saw: a passkey with user verification
//! proves possession plus a device-local check that may be a fingerprint, a face or a PIN —
//! a second factor, but not a biometric the provider can name. A biometric counts only when
//! the provider itself matched the face against the register's portrait (`face`).
//!
//! | methods (amr)                            | factors                                  | acr              |
//! |------------------------------------------|------------------------------------------|------------------|
//! | `pwd`                                    | knowledge                                | urn:vn:eid:loa:1 |
//! | `face` alone                             | biometric (one factor)                   | urn:vn:eid:loa:1 |
//! | `pwd` + `otp` (TOTP, e-mail, recovery)   | knowledge + possession                   | urn:vn:eid:loa:2 |
//! | `pwd` + `sms`                            | knowledge + possession                   | urn:vn:eid:loa:2 |
//! | passkey (`hwk`/`swk`, user verified)     | possession + PIN or biometric (unknown)  | urn:vn:eid:loa:2 |
//! | `pwd` + passkey                          | knowledge + possession + unknown         | urn:vn:eid:loa:2 |
//! | `face` + `pwd`                           | biometric + knowledge                    | urn:vn:eid:loa:3 |
//! | `face` + `otp`/`sms`                     | biometric + possession                   | urn:vn:eid:loa:3 |
//! | `face` + passkey                         | biometric + possession (+ unknown)       | urn:vn:eid:loa:3 |
//! | `face` + `pwd` + `otp`/`sms`/passkey     | biometric + knowledge + possession       | urn:vn:eid:loa:4 |

use serde::{Deserialize, Serialize};

/// Authentication level of one sign-in (Decree 69/2024/NĐ-CP Art. 20), ordered weakest first;
/// on the wire (`acr`, sessions) as its URN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Acr {
    #[serde(rename = "urn:vn:eid:loa:1")]
    Loa1,
    #[serde(rename = "urn:vn:eid:loa:2")]
    Loa2,
    #[serde(rename = "urn:vn:eid:loa:3")]
    Loa3,
    #[serde(rename = "urn:vn:eid:loa:4")]
    Loa4,
}

impl Acr {
    pub const ALL: [Acr; 4] = [Acr::Loa1, Acr::Loa2, Acr::Loa3, Acr::Loa4];

    pub fn as_str(self) -> &'static str {
        match self {
            Acr::Loa1 => "urn:vn:eid:loa:1",
            Acr::Loa2 => "urn:vn:eid:loa:2",
            Acr::Loa3 => "urn:vn:eid:loa:3",
            Acr::Loa4 => "urn:vn:eid:loa:4",
        }
    }

    /// The level an `acr` value names; `None` for values this provider does not define.
    pub fn parse(s: &str) -> Option<Acr> {
        Acr::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The level's number (1–4), as people read it ("mức 2").
    pub fn number(self) -> u8 {
        self as u8 + 1
    }
}

impl std::fmt::Display for Acr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 8176 values this provider emits.
pub const PWD: &str = "pwd";
pub const OTP: &str = "otp";
pub const SMS: &str = "sms";
/// A face matched against the register's portrait by the biometric verification service.
pub const FACE: &str = "face";
pub const MFA: &str = "mfa";

fn is_possession(m: &str) -> bool {
    matches!(m, OTP | SMS | "hwk" | "swk")
}

/// Passkeys are only accepted with user verification, done on the device with a biometric or
/// a PIN the provider cannot tell apart: a second factor, never the biometric Art. 20 means.
fn is_passkey(m: &str) -> bool {
    matches!(m, "hwk" | "swk")
}

/// The `acr` earned by the methods used in this session (the table above).
pub fn acr_for(amr: &[String]) -> Acr {
    let has = |f: fn(&str) -> bool| amr.iter().any(|m| f(m));
    let knowledge = has(|m| m == PWD);
    let possession = has(is_possession);
    let biometric = has(|m| m == FACE);
    let passkey = has(is_passkey);
    match (biometric, knowledge, possession) {
        (true, true, true) => Acr::Loa4,
        (true, true, false) | (true, false, true) => Acr::Loa3,
        // A passkey is possession plus its own verification: two factors by itself.
        (false, k, p) if (k && p) || passkey => Acr::Loa2,
        _ => Acr::Loa1,
    }
}

/// Add a method to the session's `amr`, with `mfa` once two different factors are present.
pub fn with_method(amr: &[String], method: &str) -> Vec<String> {
    let mut out: Vec<String> = amr.iter().filter(|m| *m != MFA).cloned().collect();
    if !out.iter().any(|m| m == method) {
        out.push(method.to_string());
    }
    if acr_for(&out) >= Acr::Loa2 {
        out.push(MFA.into());
    }
    out
}

/// The highest level any combination of methods here reaches: without a face matcher no
/// biometric can be shown, and two factors are the most.
pub fn highest_reachable(face: bool) -> Acr {
    match face {
        true => Acr::Loa4,
        false => Acr::Loa2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mapping_table() {
        let cases: &[(&[&str], Acr, &str)] = &[
            (&["pwd"], Acr::Loa1, "knowledge alone"),
            (&["otp"], Acr::Loa1, "a code alone is one factor"),
            (&["face"], Acr::Loa1, "a face alone is one factor"),
            (&["pwd", "otp"], Acr::Loa2, "knowledge + possession"),
            (&["pwd", "sms"], Acr::Loa2, "knowledge + possession"),
            (
                &["hwk"],
                Acr::Loa2,
                "a passkey: two factors, no biometric shown",
            ),
            (&["swk"], Acr::Loa2, "a synced passkey the same"),
            (&["pwd", "swk"], Acr::Loa2, "still no biometric"),
            (
                &["pwd", "otp", "hwk"],
                Acr::Loa2,
                "more factors, no biometric",
            ),
            (&["pwd", "face"], Acr::Loa3, "biometric + knowledge"),
            (&["face", "otp"], Acr::Loa3, "biometric + possession"),
            (&["face", "sms"], Acr::Loa3, "biometric + possession"),
            (
                &["hwk", "face"],
                Acr::Loa3,
                "a passkey's PIN is not known knowledge",
            ),
            (&["pwd", "face", "otp"], Acr::Loa4, "all three kinds"),
            (&["pwd", "face", "sms"], Acr::Loa4, "all three kinds"),
            (&["pwd", "hwk", "face"], Acr::Loa4, "all three kinds"),
        ];
        for (amr, acr, why) in cases {
            assert_eq!(acr_for(&v(amr)), *acr, "{amr:?}: {why}");
        }
        assert_eq!(Acr::parse("urn:vn:eid:loa:3"), Some(Acr::Loa3));
        assert_eq!(Acr::parse("urn:vn:eid:loa:5"), None);
        assert!(Acr::Loa1 < Acr::Loa4);
    }

    #[test]
    fn mfa_is_added_with_the_second_factor() {
        assert_eq!(with_method(&v(&["pwd"]), "otp"), v(&["pwd", "otp", "mfa"]));
        assert_eq!(
            with_method(&v(&["pwd", "otp", "mfa"]), "sms"),
            v(&["pwd", "otp", "sms", "mfa"])
        );
        assert_eq!(
            with_method(&v(&["pwd"]), "face"),
            v(&["pwd", "face", "mfa"])
        );
        assert_eq!(with_method(&[], "hwk"), v(&["hwk", "mfa"]));
        assert_eq!(highest_reachable(false), Acr::Loa2);
        assert_eq!(highest_reachable(true), Acr::Loa4);
    }
}
