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

use super::{LOA1, LOA2, LOA3, LOA4, acr_rank};

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
pub fn acr_for(amr: &[String]) -> &'static str {
    let knowledge = amr.iter().any(|m| m == PWD);
    let possession = amr.iter().any(|m| is_possession(m));
    let passkey = amr.iter().any(|m| is_passkey(m));
    match (knowledge, passkey, possession) {
        (true, true, _) => LOA4,
        (false, true, _) => LOA3,
        (true, false, true) => LOA2,
        _ => LOA1,
    }
}

/// Add a method to the session's `amr`, with `mfa` once two different factors are present.
pub fn with_method(amr: &[String], method: &str) -> Vec<String> {
    let mut out: Vec<String> = amr.iter().filter(|m| *m != MFA).cloned().collect();
    if !out.iter().any(|m| m == method) {
        out.push(method.to_string());
    }
    if acr_rank(acr_for(&out)) >= acr_rank(LOA2) {
        out.push(MFA.into());
    }
    out
}

/// The highest level any combination of methods here reaches.
pub const HIGHEST_REACHABLE: &str = LOA4;

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mapping_table() {
        assert_eq!(acr_for(&v(&["pwd"])), LOA1);
        assert_eq!(acr_for(&v(&["otp"])), LOA1, "a code alone is one factor");
        assert_eq!(acr_for(&v(&["pwd", "otp"])), LOA2);
        assert_eq!(acr_for(&v(&["pwd", "sms"])), LOA2);
        assert_eq!(with_method(&v(&["pwd"]), "otp"), v(&["pwd", "otp", "mfa"]));
        assert_eq!(
            with_method(&v(&["pwd", "otp", "mfa"]), "sms"),
            v(&["pwd", "otp", "sms", "mfa"])
        );
    }
}
