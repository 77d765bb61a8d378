//! The refresh token's wire form, `{grant}.{generation}.{tag}`.
//!
//! A grant is one token family and its generation counts the rotations, so the store keeps one
//! row per family instead of one per token, and a replayed earlier generation is recognised
//! (and its family revoked) for as long as the grant lives. The tag is an HMAC over the rest
//! under a key derived from the key-encryption key: it is what makes a token genuine, and the
//! database holds nothing a token could be made from.

use crate::crypto::kek::Kek;
use crate::store::RefreshRef;

/// Grant ids are 22 base64url characters; leave room, refuse anything absurd.
const MAX_GRANT_ID: usize = 64;

pub fn mint(kek: &Kek, grant_id: &str, generation: i64) -> String {
    let body = format!("{grant_id}.{generation}");
    let tag = kek.refresh_tag(&body);
    format!("{body}.{tag}")
}

/// The family and generation of a genuine token; `None` for anything else.
pub fn parse(kek: &Kek, token: &str) -> Option<RefreshRef> {
    let (body, tag) = token.rsplit_once('.')?;
    let (grant_id, generation) = body.split_once('.')?;
    let id_ok = !grant_id.is_empty()
        && grant_id.len() <= MAX_GRANT_ID
        && grant_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    // Canonical decimal only, so one token has one spelling.
    let generation_ok = !generation.is_empty()
        && generation.len() <= 18
        && generation.bytes().all(|b| b.is_ascii_digit())
        && (generation == "0" || !generation.starts_with('0'));
    if !(id_ok && generation_ok && kek.refresh_tag_matches(body, tag)) {
        return None;
    }
    Some(RefreshRef {
        grant_id: grant_id.to_string(),
        generation: generation.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kek() -> Kek {
        Kek::from_bytes(&[9u8; 32], true).unwrap()
    }

    #[test]
    fn round_trip() {
        let k = kek();
        let t = mint(&k, "AbC-_9", 41);
        let r = parse(&k, &t).unwrap();
        assert_eq!((r.grant_id.as_str(), r.generation), ("AbC-_9", 41));
    }

    #[test]
    fn tampering_and_other_keys_fail() {
        let k = kek();
        let t = mint(&k, "grant1", 3);
        let tag = t.rsplit_once('.').unwrap().1;
        for forged in [
            format!("grant1.4.{tag}"),
            format!("grant2.3.{tag}"),
            format!("grant1.03.{tag}"),
            format!("grant1.3.{tag}x"),
            format!("grant1.3.{tag}.x"),
            "grant1.3".to_string(),
            String::new(),
        ] {
            assert_eq!(parse(&k, &forged), None, "{forged}");
        }
        let other = Kek::from_bytes(&[10u8; 32], true).unwrap();
        assert_eq!(parse(&other, &t), None);
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_parses_or_panics(s in ".{0,200}") {
            prop_assert_eq!(parse(&kek(), &s), None);
        }

        #[test]
        fn any_mint_parses_back(id in "[A-Za-z0-9_-]{1,64}", generation in 0i64..i64::MAX / 10) {
            let k = kek();
            let r = parse(&k, &mint(&k, &id, generation)).unwrap();
            prop_assert_eq!((r.grant_id, r.generation), (id, generation));
        }

        #[test]
        fn any_single_change_is_refused(id in "[A-Za-z0-9]{4,22}", generation in 0i64..1000, at in 0usize..200, c in any::<char>()) {
            let k = kek();
            let t = mint(&k, &id, generation);
            let at = at % t.len();
            let mut chars: Vec<char> = t.chars().collect();
            prop_assume!(chars[at] != c);
            chars[at] = c;
            let changed: String = chars.into_iter().collect();
            prop_assert_eq!(parse(&k, &changed), None);
        }
    }
}
