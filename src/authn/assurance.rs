//! How strongly a person signed in: the `acr` (Decree 69/2024/NĐ-CP Art. 20 authentication
//! levels) and `amr` (RFC 8176) a set of methods earns. See docs/assurance.md.
//!
//! | methods (amr)                         | factors                         | acr              |
//! |---------------------------------------|---------------------------------|------------------|
//! | `pwd`                                 | knowledge                       | urn:vn:eid:loa:1 |
//! | `pwd` + `otp` (TOTP or recovery code) | knowledge + possession          | urn:vn:eid:loa:2 |
//! | `pwd` + `sms`                         | knowledge + possession          | urn:vn:eid:loa:2 |
//! | passkey (`hwk`/`swk`, user verified)  | possession + biometric/PIN      | urn:vn:eid:loa:3 |
//! | `pwd` + passkey                       | knowledge + possession + biom.  | urn:vn:eid:loa:4 |

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
pub const MFA: &str = "mfa";

fn is_possession(m: &str) -> bool {
    matches!(m, OTP | SMS | "hwk" | "swk")
}

/// Passkeys are only accepted with user verification, which the device does with a biometric
/// or a PIN: DOMAIN.md counts that as possession plus the biometric factor.
fn is_passkey(m: &str) -> bool {
    matches!(m, "hwk" | "swk")
}

/// The `acr` earned by the methods used in this session.
pub fn acr_for(amr: &[String]) -> Acr {
    let knowledge = amr.iter().any(|m| m == PWD);
    let possession = amr.iter().any(|m| is_possession(m));
    let passkey = amr.iter().any(|m| is_passkey(m));
    match (knowledge, passkey, possession) {
        (true, true, _) => Acr::Loa4,
        (false, true, _) => Acr::Loa3,
        (true, false, true) => Acr::Loa2,
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

/// The highest level any combination of methods here reaches.
pub const HIGHEST_REACHABLE: Acr = Acr::Loa4;

/// The highest level codes (TOTP, SMS, e-mail, recovery) can lift a password session to;
/// above it only a passkey helps.
pub const CODES_REACH: Acr = Acr::Loa2;

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mapping_table() {
        assert_eq!(acr_for(&v(&["pwd"])), Acr::Loa1);
        assert_eq!(
            acr_for(&v(&["otp"])),
            Acr::Loa1,
            "a code alone is one factor"
        );
        assert_eq!(acr_for(&v(&["pwd", "otp"])), Acr::Loa2);
        assert_eq!(acr_for(&v(&["pwd", "sms"])), Acr::Loa2);
        assert_eq!(acr_for(&v(&["hwk"])), Acr::Loa3);
        assert_eq!(acr_for(&v(&["pwd", "swk"])), Acr::Loa4);
        assert_eq!(Acr::parse("urn:vn:eid:loa:3"), Some(Acr::Loa3));
        assert_eq!(Acr::parse("urn:vn:eid:loa:5"), None);
        assert!(Acr::Loa1 < Acr::Loa4);
        assert_eq!(with_method(&v(&["pwd"]), "otp"), v(&["pwd", "otp", "mfa"]));
        assert_eq!(
            with_method(&v(&["pwd", "otp", "mfa"]), "sms"),
            v(&["pwd", "otp", "sms", "mfa"])
        );
    }
}
