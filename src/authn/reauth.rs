//! Re-authentication before an account change: a weak credential must never mint a stronger
//! one. Adding, removing or replacing a factor, changing the password and making recovery
//! codes need the password **and** the strongest further factor the account already has,
//! both proven in this session within the last [`RECENT_SECS`] — never the factor being
//! added. An account with no further factor yet proves the own-name phone on record with an
//! SMS code before it may add its first one.
//!
//! | the account has                     | re-authentication needs        | level reached     |
//! |-------------------------------------|--------------------------------|-------------------|
//! | a passkey (usable on this issuer)   | password + passkey             | acr of pwd+passkey|
//! | an authenticator app (TOTP)         | password + TOTP or recovery code | loa:2           |
//! | recovery codes only                 | password + recovery code       | loa:2             |
//! | nothing further, a phone on record  | password + SMS code            | loa:2             |
//! | nothing further, no phone           | not possible: an officer helps | —                 |

use super::{Method, Session, assurance};
use crate::clock::UnixTime;
use crate::store::{AccountRecord, Durable, StoreResult};

/// How recent the proofs must be.
pub const RECENT_SECS: i64 = 5 * 60;

/// What the account has to prove itself with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Factors {
    /// Passkeys the issuer can use (none when passkeys are off here).
    pub passkeys: usize,
    pub totp: bool,
    pub recovery_left: i64,
    pub phone: bool,
}

/// A re-authentication: the password plus any one of `second`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The level it reaches: the strongest the account has.
    pub acr: &'static str,
    /// The further methods that qualify (by [`Method::name`]).
    pub second: Vec<&'static str>,
}

impl Requirement {
    pub fn accepts(&self, m: Method) -> bool {
        m == Method::Password || self.second.contains(&m.name())
    }
}

/// The re-authentication an account with `f` needs, or `None` when it has no way to prove
/// more than its password (no factor, no phone): then only an officer can help.
pub fn requirement(f: &Factors) -> Option<Requirement> {
    let with = |m: Method| {
        let amr = [assurance::PWD.to_string(), m.amr().to_string()];
        assurance::acr_for(&amr)
    };
    let (acr, second) = if f.passkeys > 0 {
        (with(Method::Passkey { synced: false }), vec!["passkey"])
    } else if f.totp {
        (with(Method::Totp), vec!["totp", "recovery"])
    } else if f.recovery_left > 0 {
        (with(Method::Recovery), vec!["recovery"])
    } else if f.phone {
        (with(Method::Sms), vec!["sms"])
    } else {
        return None;
    };
    Some(Requirement { acr, second })
}

/// Has this session met `req` within the last [`RECENT_SECS`]?
pub fn satisfied(req: &Requirement, s: &Session, now: UnixTime) -> bool {
    let recent: Vec<&str> = s.proven_since(now - RECENT_SECS).collect();
    recent.contains(&Method::Password.name()) && req.second.iter().any(|m| recent.contains(m))
}

/// Read what the account has. `passkeys_usable` is false when the issuer cannot run
/// WebAuthn ceremonies (its passkeys cannot be presented here).
pub async fn factors_of(
    db: &dyn Durable,
    account: &AccountRecord,
    passkeys_usable: bool,
) -> StoreResult<Factors> {
    let (passkeys, totp, recovery_left, person) = tokio::try_join!(
        db.passkeys_of(&account.sub),
        db.totp(&account.sub),
        db.recovery_codes_left(&account.sub),
        db.person(&account.id_number),
    )?;
    Ok(Factors {
        passkeys: if passkeys_usable { passkeys.len() } else { 0 },
        totp: totp.is_some(),
        recovery_left,
        phone: person.and_then(|p| p.phone).is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::{LOA2, LOA4};
    use std::collections::BTreeMap;

    fn session(proofs: &[(&str, i64)]) -> Session {
        Session {
            sid: "s".into(),
            sub: "u".into(),
            auth_time: 0,
            acr: LOA2.into(),
            amr: vec![],
            expires_at: 10_000,
            epoch: 0,
            proofs: proofs
                .iter()
                .map(|(m, t)| (m.to_string(), *t))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn the_strongest_factor_decides() {
        let all = Factors {
            passkeys: 1,
            totp: true,
            recovery_left: 5,
            phone: true,
        };
        let r = requirement(&all).unwrap();
        assert_eq!((r.acr, r.second.clone()), (LOA4, vec!["passkey"]));
        let r = requirement(&Factors {
            passkeys: 0,
            ..all.clone()
        })
        .unwrap();
        assert_eq!((r.acr, r.second), (LOA2, vec!["totp", "recovery"]));
        let r = requirement(&Factors {
            phone: true,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(r.second, vec!["sms"], "a first factor needs the phone");
        assert_eq!(requirement(&Factors::default()), None);
    }

    #[test]
    fn both_proofs_must_be_recent() {
        let r = requirement(&Factors {
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
    }
}
