//! Documents synchronised into the person's account that a relying party may receive as
//! claims, after consent: the health-insurance card (`health_insurance`, scope of the same
//! name, hospitals only — see `policy`). Values come fresh from the insurance register.

use serde_json::{Map, Value};

use crate::clock::UnixTime;
use crate::identity::insurance;
use crate::store::{Durable, StoreResult};

/// The claim (and scope) carrying the card facts.
pub const HEALTH_INSURANCE: &str = "health_insurance";

/// The document claims among `wanted` that the person has on record, by claim name.
pub async fn values(
    db: &dyn Durable,
    id_number: &str,
    wanted: &[&str],
    now: UnixTime,
) -> StoreResult<Map<String, Value>> {
    let mut out = Map::new();
    if wanted.contains(&HEALTH_INSURANCE)
        && let Some(card) = db.insurance_card(id_number).await?
    {
        let today = crate::identity::register::date_of(now + insurance::LOCAL_OFFSET_SECS);
        out.insert(HEALTH_INSURANCE.into(), insurance::claim(&card, &today));
    }
    Ok(out)
}

/// How the consent page shows a document claim: the card's code, validity and facility.
pub fn summary(v: &Value) -> Option<String> {
    let card = v.get("card")?;
    Some(format!(
        "{}, {} – {}, {}",
        card.get("code")?.as_str()?,
        card.get("valid_from")?.as_str()?,
        card.get("valid_to")?.as_str()?,
        v.get("registered_facility")?.get("name")?.as_str()?
    ))
}
