//! Re-authentication before an account change: a weak credential must never mint a stronger
//! one. Adding, removing or replacing a factor, changing the password and making recovery
//! codes need the password **and** the strongest further factor the account already has,
//! both proven in this session within the last [`RECENT_SECS`] — never the factor being
//! added. An account with no further factor yet proves the own-name phone on record with an
//! SMS code before it may add its first one.
//!
//! | the account has                     | re-authentication needs          | level reached   |
//! |-------------------------------------|----------------------------------|-----------------|
//! | a passkey (usable on this issuer)   | password + passkey               | loa:2           |
//! | an authenticator app (TOTP)         | password + TOTP or recovery code | loa:2           |
//! | recovery codes only                 | password + recovery code         | loa:2           |
//! | nothing further, a phone on record  | password + SMS code              | loa:2           |
//! | nothing further, no phone           | not possible: an officer helps   | —               |

use super::inventory::{Factor, Inventory};
use super::{Acr, Method, Session, assurance};
use crate::clock::UnixTime;

/// How recent the proofs must be.
pub const RECENT_SECS: i64 = 5 * 60;

/// A re-authentication: the password plus any one of `second`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The level it reaches: the strongest the account has.
    pub acr: Acr,
    /// The further factors that qualify.
    pub second: Vec<Factor>,
}

impl Requirement {
    pub fn accepts(&self, m: Method) -> bool {
        m.factor().is_none_or(|f| self.second.contains(&f))
    }
}

/// The re-authentication an account with `f` needs, or `None` when it has no way to prove
/// more than its password (no factor, no phone): then only an officer can help.
pub fn requirement(f: &Inventory) -> Option<Requirement> {
    let with = |m: Method| {
        let amr = [assurance::PWD.to_string(), m.amr().to_string()];
        assurance::acr_for(&amr)
    };
    let (acr, second) = if f.passkeys > 0 {
        (
            with(Method::Passkey { synced: false }),
            vec![Factor::Passkey],
        )
    } else if f.totp {
        (with(Method::Totp), vec![Factor::Totp, Factor::Recovery])
    } else if f.recovery_left > 0 {
        (with(Method::Recovery), vec![Factor::Recovery])
    } else if f.phone.is_some() {
        (with(Method::Sms), vec![Factor::Sms])
    } else {
        return None;
    };
    Some(Requirement { acr, second })
}

/// Has this session met `req` within the last [`RECENT_SECS`]?
pub fn satisfied(req: &Requirement, s: &Session, now: UnixTime) -> bool {
    let recent: Vec<&str> = s.proven_since(now - RECENT_SECS).collect();
    recent.contains(&Method::Password.name())
        && req.second.iter().any(|f| recent.contains(&f.name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn session(proofs: &[(&str, i64)]) -> Session {
        Session {
            sid: "s".into(),
            sub: crate::ids::Subject::parse("u").unwrap(),
            auth_time: 0,
            acr: Acr::Loa2,
            amr: vec![],
            expires_at: 10_000,
            epoch: 0,
            proofs: proofs
                .iter()
                .map(|(m, t)| (m.to_string(), *t))
                .collect::<BTreeMap<_, _>>(),
            started_at: 0,
            ip: None,
            agent: None,
        }
    }

    #[test]
    fn the_strongest_factor_decides() {
        let all = Inventory {
            passkeys: 1,
            totp: true,
            recovery_left: 5,
            phone: Some("+84".into()),
            email: None,
            face: true,
        };
        let r = requirement(&all).unwrap();
        assert_eq!(
            (r.acr, r.second.clone()),
            (Acr::Loa2, vec![Factor::Passkey]),
            "a passkey is the strongest factor held, yet no biometric"
        );
        let r = requirement(&Inventory {
            passkeys: 0,
            ..all.clone()
        })
        .unwrap();
        assert_eq!(
            (r.acr, r.second),
            (Acr::Loa2, vec![Factor::Totp, Factor::Recovery])
        );
        let r = requirement(&Inventory {
            phone: Some("+84".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            r.second,
            vec![Factor::Sms],
            "a first factor needs the phone"
        );
        assert_eq!(requirement(&Inventory::default()), None);
    }

    #[test]
    fn both_proofs_must_be_recent() {
        let r = requirement(&Inventory {
            totp: true,
            ..Default::default()
        })
        .unwrap();
        let now = 1000;
        assert!(satisfied(&r, &session(&[("pwd", 900), ("totp", 990)]), now));
        assert!(
            !satisfied(&r, &session(&[("pwd", 900)]), now),
            "a password-only session"
        );
        assert!(
            !satisfied(&r, &session(&[("pwd", 600), ("totp", 990)]), now),
            "the password is too old"
        );
        assert!(
            !satisfied(&r, &session(&[("pwd", 990), ("sms", 990)]), now),
            "a factor the requirement does not name (SMS while a TOTP exists)"
        );
        assert!(satisfied(
            &r,
            &session(&[("pwd", 990), ("recovery", 990)]),
            now
        ));
        assert!(r.accepts(Method::Password) && r.accepts(Method::Totp));
        assert!(!r.accepts(Method::Sms));
    }
}
