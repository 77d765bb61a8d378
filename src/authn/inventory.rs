//! What an account can prove itself with beyond its password — passkeys, an authenticator
//! app, recovery codes, the phone and e-mail address the register holds, and a face match
//! against the register's portrait — and which of those can lift a session towards a level.
//! Step-up at sign-in and re-authentication before an account change both choose from here.

use super::assurance::{self, Acr};
use crate::store::{AccountRecord, Durable, StoreResult};

/// A further factor, as the account holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Passkey,
    Totp,
    Sms,
    Email,
    Recovery,
    /// A face matched against the register's portrait (the biometric factor).
    Face,
}

impl Factor {
    /// The same name the method proving it has (`Method::name`).
    pub fn name(self) -> &'static str {
        match self {
            Factor::Passkey => "passkey",
            Factor::Totp => "totp",
            Factor::Sms => "sms",
            Factor::Email => "email",
            Factor::Recovery => "recovery",
            Factor::Face => "face",
        }
    }

    /// The `amr` value proving it adds to a session (a passkey counted as device-bound: a
    /// synced one counts the same).
    fn amr(self) -> &'static str {
        match self {
            Factor::Passkey => "hwk",
            Factor::Totp | Factor::Email | Factor::Recovery => assurance::OTP,
            Factor::Sms => assurance::SMS,
            Factor::Face => assurance::FACE,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Passkeys the issuer can use (none when passkeys are off here).
    pub passkeys: usize,
    pub totp: bool,
    pub recovery_left: i64,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// A face matcher is configured: every account can show its face (the register holds the
    /// portrait the service compares with).
    pub face: bool,
}

impl Inventory {
    /// Everything the account holds, in the order of recommendation.
    fn held(&self) -> Vec<Factor> {
        let has = [
            (self.face, Factor::Face),
            (self.passkeys > 0, Factor::Passkey),
            (self.totp, Factor::Totp),
            (self.phone.is_some(), Factor::Sms),
            (self.email.is_some(), Factor::Email),
            (self.recovery_left > 0, Factor::Recovery),
        ];
        has.into_iter()
            .filter(|(h, _)| *h)
            .map(|(_, f)| f)
            .collect()
    }

    /// The factors to offer a session with methods `amr` that needs `need`, best first: the
    /// first is the one to recommend. Empty when not even all of them together reach `need`.
    /// When one factor reaches `need` by itself, only such factors are offered (the missing
    /// factor, nothing more); otherwise those that raise the level, and the next step asks
    /// again (a level two factors away takes two steps). The face is asked for only when the
    /// level needs a biometric (loa:3 and up): biometric data is not processed where a code
    /// would do.
    pub fn reaching(&self, amr: &[String], need: Acr) -> Vec<Factor> {
        let held: Vec<Factor> = self
            .held()
            .into_iter()
            .filter(|f| *f != Factor::Face || need >= Acr::Loa3)
            .collect();
        let all = held
            .iter()
            .fold(amr.to_vec(), |a, f| assurance::with_method(&a, f.amr()));
        if assurance::acr_for(&all) < need {
            return Vec::new();
        }
        let with = |f: &Factor| assurance::acr_for(&assurance::with_method(amr, f.amr()));
        let direct: Vec<Factor> = held.iter().copied().filter(|f| with(f) >= need).collect();
        if !direct.is_empty() {
            return direct;
        }
        let now = assurance::acr_for(amr);
        held.into_iter().filter(|f| with(f) > now).collect()
    }
}

/// Read what the account has. `passkeys_usable` is false when the issuer cannot run WebAuthn
/// ceremonies (its passkeys cannot be presented here).
pub async fn of(
    db: &dyn Durable,
    account: &AccountRecord,
    passkeys_usable: bool,
    face_usable: bool,
) -> StoreResult<Inventory> {
    let (passkeys, totp, recovery_left, person) = tokio::try_join!(
        db.passkeys_of(&account.sub),
        db.totp(&account.sub),
        db.recovery_codes_left(&account.sub),
        db.person(&account.id_number),
    )?;
    let (phone, email) = person.map(|p| (p.phone, p.email)).unwrap_or_default();
    Ok(Inventory {
        passkeys: if passkeys_usable { passkeys.len() } else { 0 },
        totp: totp.is_some(),
        recovery_left,
        phone,
        email,
        face: face_usable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn what_lifts_a_session_towards_a_level() {
        let all = Inventory {
            passkeys: 1,
            totp: true,
            recovery_left: 3,
            phone: Some("+84".into()),
            email: Some("a@b".into()),
            face: true,
        };
        use Factor::*;
        let pwd = v(&["pwd"]);
        assert_eq!(
            all.reaching(&pwd, Acr::Loa2),
            vec![Passkey, Totp, Sms, Email, Recovery],
            "no face where a code does"
        );
        assert_eq!(
            all.reaching(&pwd, Acr::Loa3),
            vec![Face],
            "the face reaches it at once: nothing else is asked"
        );
        assert_eq!(
            all.reaching(&pwd, Acr::Loa4),
            vec![Face, Passkey, Totp, Sms, Email, Recovery],
            "two factors away: any first step, the face recommended"
        );
        assert_eq!(
            all.reaching(&v(&["pwd", "otp", "mfa"]), Acr::Loa3),
            vec![Face],
            "at loa:2 only the biometric lifts"
        );
        assert_eq!(
            all.reaching(&v(&["pwd", "face", "mfa"]), Acr::Loa4),
            vec![Passkey, Totp, Sms, Email, Recovery],
            "face + password: any possession factor completes loa:4"
        );
        assert_eq!(all.reaching(&v(&["hwk", "mfa"]), Acr::Loa3), vec![Face]);
        assert!(
            all.reaching(&v(&["hwk", "mfa"]), Acr::Loa4).is_empty(),
            "a passkey session lacks known knowledge; the step-up asks no password"
        );
        let no_face = Inventory {
            face: false,
            ..all.clone()
        };
        assert!(
            no_face.reaching(&pwd, Acr::Loa3).is_empty(),
            "without a face match nothing reaches loa:3"
        );
        let face_only = Inventory {
            face: true,
            ..Default::default()
        };
        assert_eq!(face_only.reaching(&pwd, Acr::Loa3), vec![Face]);
        assert!(face_only.reaching(&pwd, Acr::Loa4).is_empty());
        assert_eq!(Inventory::default().reaching(&pwd, Acr::Loa2), vec![]);
    }
}
