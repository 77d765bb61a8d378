//! What an account can prove itself with beyond its password — passkeys, an authenticator
//! app, recovery codes, and the phone and e-mail address the register holds — and which of
//! those can lift a session to a level. Step-up at sign-in and re-authentication before an
//! account change both choose from here.

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
}

impl Inventory {
    /// The factors that can lift a session to `need`, best first: the first is the one to
    /// recommend. Above what codes reach only a passkey helps.
    pub fn reaching(&self, need: Acr) -> Vec<Factor> {
        let codes = need <= assurance::CODES_REACH;
        let mut out = Vec::new();
        if self.passkeys > 0 {
            out.push(Factor::Passkey);
        }
        if codes {
            let has = [
                (self.totp, Factor::Totp),
                (self.phone.is_some(), Factor::Sms),
                (self.email.is_some(), Factor::Email),
                (self.recovery_left > 0, Factor::Recovery),
            ];
            out.extend(has.into_iter().filter(|(h, _)| *h).map(|(_, f)| f));
        }
        out
    }
}

/// Read what the account has. `passkeys_usable` is false when the issuer cannot run WebAuthn
/// ceremonies (its passkeys cannot be presented here).
pub async fn of(
    db: &dyn Durable,
    account: &AccountRecord,
    passkeys_usable: bool,
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_reach_loa2_and_only_passkeys_beyond() {
        let all = Inventory {
            passkeys: 1,
            totp: true,
            recovery_left: 3,
            phone: Some("+84".into()),
            email: Some("a@b".into()),
        };
        use Factor::*;
        assert_eq!(
            all.reaching(Acr::Loa2),
            vec![Passkey, Totp, Sms, Email, Recovery]
        );
        assert_eq!(all.reaching(Acr::Loa3), vec![Passkey]);
        let codes_only = Inventory { passkeys: 0, ..all };
        assert!(codes_only.reaching(Acr::Loa4).is_empty());
        assert_eq!(Inventory::default().reaching(Acr::Loa2), vec![]);
    }
}
