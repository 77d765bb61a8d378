//! What the consent page offers: one line per claim (companion claims such as
//! `email_verified` travel with theirs) with the value that would be shared, masked where it
//! is sensitive, and whether the purpose requires it. The page and the receipt show the same
//! [`ConsentShown`]; its hash is what the person approved.

use super::claims;
use crate::store::{
    AccountRecord, ClientRecord, ConsentShown, PersonRecord, Purpose, ShownItem, ShownTransfer,
};

/// The version of the consent page's own wording; a receipt names it with the purpose's.
pub const PAGE_VERSION: &str = "2026-11-30";

/// The `sub` line: always shared, it is how the service knows the person.
pub const SUB: &str = "sub";
/// The `offline_access` line: not a claim, the service keeping access while the person is away.
pub const OFFLINE: &str = "offline_access";
/// The `kyc` line: not a claim, the bank's signed identity assertion (`rp_api::kyc`).
pub const KYC: &str = "kyc";

/// A line of the page: its claim, the claims travelling with it, its label key, sensitivity.
struct Line {
    claim: &'static str,
    with: &'static [&'static str],
    label: &'static str,
    sensitive: bool,
}

const LINES: [Line; 9] = [
    Line {
        claim: "name",
        with: &[],
        label: "claim_name",
        sensitive: false,
    },
    Line {
        claim: "birthdate",
        with: &[],
        label: "claim_birthdate",
        sensitive: false,
    },
    Line {
        claim: "gender",
        with: &[],
        label: "claim_gender",
        sensitive: false,
    },
    Line {
        claim: "email",
        with: &["email_verified"],
        label: "claim_email",
        sensitive: false,
    },
    Line {
        claim: "phone_number",
        with: &["phone_number_verified"],
        label: "claim_phone",
        sensitive: true,
    },
    Line {
        claim: "address",
        with: &[],
        label: "claim_address",
        sensitive: true,
    },
    Line {
        claim: "id_number",
        with: &[],
        label: "claim_id_number",
        sensitive: true,
    },
    Line {
        claim: "eid_level",
        with: &[],
        label: "claim_eid_level",
        sensitive: false,
    },
    Line {
        claim: "health_insurance",
        with: &[],
        label: "claim_health_insurance",
        sensitive: true,
    },
];

/// The claims a line stands for (itself and its companions).
pub fn claims_of(line: &str) -> Vec<String> {
    LINES
        .iter()
        .filter(|l| l.claim == line)
        .flat_map(|l| std::iter::once(l.claim).chain(l.with.iter().copied()))
        .map(String::from)
        .collect()
}

/// Everything the page needs to build what it shows.
pub struct Offering<'a> {
    pub client: &'a ClientRecord,
    pub purpose: Option<&'a Purpose>,
    pub scopes: &'a [String],
    pub claims_param: Option<&'a serde_json::Value>,
    /// The `sub` the client will know the person by.
    pub rp_sub: &'a str,
    pub person: &'a PersonRecord,
    pub account: &'a AccountRecord,
    /// Synchronised documents on record, by claim name (`documents::values`).
    pub documents: &'a serde_json::Map<String, serde_json::Value>,
    pub lang: &'a str,
    /// The request's validated `authorization_details` (RFC 9396).
    pub authorization_details: Option<&'a serde_json::Value>,
}

/// What the page shows; `label` translates a key into `lang`.
pub fn shown(o: &Offering<'_>, label: &dyn Fn(&str) -> String) -> ConsentShown {
    let asked = claims::offered(o.scopes, o.claims_param);
    let required = |claim: &str| match o.purpose {
        Some(p) => p.required_claims.iter().any(|c| c == claim),
        // A client that registered no purpose asks for everything it names as one whole.
        None => true,
    };
    let mut items = vec![ShownItem {
        claim: SUB.into(),
        label: label("claim_sub"),
        value: o.rp_sub.into(),
        sensitive: false,
        required: true,
    }];
    for line in LINES.iter().filter(|l| asked.contains(&l.claim)) {
        let document = o
            .documents
            .get(line.claim)
            .and_then(super::documents::summary);
        let Some(value) = document.or_else(|| display(o.person, o.account, line.claim)) else {
            continue; // nothing on record: nothing would be shared
        };
        items.push(ShownItem {
            claim: line.claim.into(),
            label: label(line.label),
            value: if line.sensitive {
                mask(line.claim, &value)
            } else {
                value
            },
            sensitive: line.sensitive,
            required: required(line.claim),
        });
    }
    for (scope, key) in [(KYC, "claim_kyc"), (OFFLINE, "claim_offline_access")] {
        if o.scopes.iter().any(|s| s == scope) {
            items.push(ShownItem {
                claim: scope.into(),
                label: label(key),
                value: String::new(),
                sensitive: scope == KYC,
                required: true,
            });
        }
    }
    let (purpose_text, purpose_version) = match o.purpose {
        Some(p) if o.lang == "vi" => (p.text_vi.clone(), p.version),
        Some(p) => (p.text_en.clone(), p.version),
        None => (label("purpose_default"), 1),
    };
    ConsentShown {
        client_id: o.client.client_id.to_string(),
        client_name: o.client.name.clone(),
        client_kind: label(&format!("kind_{}", o.client.kind)),
        purpose_id: o.purpose.map(|p| p.id.clone()),
        purpose_version,
        purpose_text,
        page_version: PAGE_VERSION.into(),
        lang: o.lang.into(),
        items,
        transfer: super::rar::transfer_of(o.authorization_details)
            .map(|t| shown_transfer(&t, o.lang)),
    }
}

fn shown_transfer(t: &super::rar::Transfer, lang: &str) -> ShownTransfer {
    let n = t.amount.max(0) as u64;
    ShownTransfer {
        amount: t.amount,
        amount_digits: format!("{} {}", super::rar::words::digits(n), t.currency),
        amount_words: match lang {
            "vi" => super::rar::words::vi(n),
            _ => super::rar::words::en(n),
        },
        currency: t.currency.clone(),
        creditor_name: t.creditor_name.clone(),
        creditor_account: t.creditor_account.clone(),
        creditor_bank: t.creditor_bank.clone(),
        debtor_account: t.debtor_account.clone(),
        reference: t.reference.clone(),
    }
}

/// The person's answer on the page shown: the lines they ticked (optional lines only count
/// when ticked; required ones always). Companion claims follow their line.
pub fn approval(
    shown: ConsentShown,
    shown_hash: String,
    scopes: Vec<String>,
    ticked: &[String],
) -> crate::consent::Approval {
    let (mut asked, mut granted) = (Vec::new(), Vec::new());
    for item in shown
        .items
        .iter()
        .filter(|i| i.claim != SUB && i.claim != OFFLINE && i.claim != KYC)
    {
        let claims = claims_of(&item.claim);
        if item.required || ticked.contains(&item.claim) {
            granted.extend(claims.iter().cloned());
        }
        asked.extend(claims);
    }
    crate::consent::Approval {
        shown,
        shown_hash,
        scopes,
        asked,
        granted,
    }
}

/// SHA-256 (hex) of what was shown: the receipt's proof of the exact page approved.
pub fn hash(s: &ConsentShown) -> String {
    let bytes = serde_json::to_vec(s).unwrap_or_default();
    crate::crypto::digest_hex_bytes(&bytes)
}

/// The claim's value as the service would receive it, in words; `None` when not on record.
fn display(person: &PersonRecord, account: &AccountRecord, claim: &str) -> Option<String> {
    let v = claims::values(person, account, &[claim]);
    match v.get(claim)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o
            .get("formatted")
            .and_then(|f| f.as_str())
            .map(String::from),
        other => Some(other.to_string()),
    }
}

/// Enough of a sensitive value for the person to recognise it, not enough to copy it off a
/// screen over their shoulder.
pub fn mask(claim: &str, value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let keep = |head: usize, tail: usize| -> String {
        if chars.len() <= head + tail {
            return "•".repeat(chars.len());
        }
        let mid = "•".repeat(chars.len() - head - tail);
        let (h, t) = (&chars[..head], &chars[chars.len() - tail..]);
        format!(
            "{}{mid}{}",
            h.iter().collect::<String>(),
            t.iter().collect::<String>()
        )
    };
    match claim {
        "id_number" => keep(3, 3),
        "phone_number" => keep(4, 3),
        // The card: its code masked like an ID number, validity and facility in full.
        "health_insurance" => match value.split_once(", ") {
            Some((code, rest)) => format!("{}, {rest}", mask("id_number", code)),
            None => keep(1, 1),
        },
        // The residence: only its last two parts (district, city).
        "address" => {
            let parts: Vec<&str> = value.split(',').map(str::trim).collect();
            match parts.len() {
                0..=2 => "•••".into(),
                n => format!("•••, {}", parts[n - 2..].join(", ")),
            }
        }
        _ => keep(1, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_values_are_masked_but_recognisable() {
        assert_eq!(mask("id_number", "001099012345"), "001••••••345");
        assert_eq!(mask("phone_number", "+84987654321"), "+849•••••321");
        assert_eq!(
            mask(
                "address",
                "12 Phố Huế, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội"
            ),
            "•••, Quận Hoàn Kiếm, Hà Nội"
        );
        assert_eq!(mask("address", "Hà Nội"), "•••");
        assert_eq!(mask("id_number", "12"), "••");
    }

    #[test]
    fn a_line_carries_its_companions() {
        assert_eq!(claims_of("email"), vec!["email", "email_verified"]);
        assert_eq!(claims_of("name"), vec!["name"]);
        assert!(claims_of("password").is_empty());
    }
}
