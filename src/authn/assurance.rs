//! How strongly a person signed in: the `acr` (Decree 69/2024/NĐ-CP Art. 20 authentication
//! levels) and `amr` (RFC 8176) a set of methods earns. See docs/assurance.md.
//!
//! | methods (amr)                         | factors                         | acr              |
//! |---------------------------------------|---------------------------------|------------------|
//! | `pwd`                                 | knowledge                       | urn:vn:eid:loa:1 |
//! | `pwd` + `otp` (TOTP or recovery code) | knowledge + possession          | urn:vn:eid:loa:2 |
//! | `pwd` + `sms`                         | knowledge + possession          | urn:vn:eid:loa:2 |

use super::{LOA1, LOA2, acr_rank};

/// RFC 8176 values this provider emits.
pub const PWD: &str = "pwd";
pub const OTP: &str = "otp";
pub const SMS: &str = "sms";
pub const MFA: &str = "mfa";

fn is_possession(m: &str) -> bool {
    matches!(m, OTP | SMS | "hwk" | "swk")
}

/// The `acr` earned by the methods used in this session.
pub fn acr_for(amr: &[String]) -> &'static str {
    let knowledge = amr.iter().any(|m| m == PWD);
    let possession = amr.iter().any(|m| is_possession(m));
    if knowledge && possession { LOA2 } else { LOA1 }
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

/// The highest level this provider can reach with second factors today.
pub const HIGHEST_REACHABLE: &str = LOA2;

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
