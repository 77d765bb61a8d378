//! The eligibility look-up (`POST /api/insurance/v1/eligibility`): a hospital asks whether a
//! patient's health-insurance card is valid today, naming the operator at the desk, the
//! facility and the purpose. The answer carries card facts only — never medical data. An
//! unknown patient, an expired or a suspended card are answers (`eligible: false` with a
//! `reason`), not errors. Every look-up is in the audit log, attributed to the hospital and
//! the operator, before the answer leaves; a look-up the log cannot hold is not answered.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{EligibilityRequest, PatientRef};
use crate::clock::UnixTime;
use crate::identity::insurance::{LOCAL_OFFSET_SECS, Standing, benefit_percent, standing};
use crate::identity::register::date_of;
use crate::store::{Durable, InsuranceCardRecord, StoreResult};

/// Today's date where the cards are used.
pub fn local_today(now: UnixTime) -> String {
    date_of(now + LOCAL_OFFSET_SECS)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFacts {
    pub code: String,
    pub valid_from: String,
    pub valid_to: String,
    /// `active`, `expired`, `suspended` or `not_yet_valid`, as of today.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    pub code: String,
    pub name: String,
    /// Whether it is the facility the request came from.
    pub is_this_facility: bool,
}

/// The answer (docs/schemas/insurance-eligibility-response.json). For an unknown patient the
/// card facts are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityAnswer {
    pub lookup_id: String,
    pub eligible: bool,
    /// Why not: `unknown_patient`, `expired`, `suspended`, `not_yet_valid`; `null` when
    /// eligible.
    pub reason: Option<String>,
    pub card: Option<CardFacts>,
    pub registered_facility: Option<Facility>,
    /// The benefit level digit 1–5, and the share of covered costs it pays.
    pub benefit_level: Option<i64>,
    pub benefit_percent: Option<i64>,
    pub five_years_since: Option<String>,
    /// The local date the answer is for.
    pub checked_on: String,
}

/// Who asks: the hospital's client, and where the request came from.
pub struct Caller<'a> {
    pub client_id: &'a str,
    pub ip: Option<&'a str>,
}

/// The card of a patient named by card code: a code this register does not hold may still be
/// the population register's alias of one person, whose card is then found.
async fn by_code(
    db: &dyn Durable,
    patient: &PatientRef,
) -> StoreResult<Option<InsuranceCardRecord>> {
    let Some(code) = &patient.card_code else {
        return Ok(None);
    };
    if let Some(card) = db.insurance_card_by_code(code).await? {
        return Ok(Some(card));
    }
    let people = db.persons_by_alias("bhyt", code).await?;
    match people.as_slice() {
        [one] => db.insurance_card(&one.id_number).await,
        _ => Ok(None),
    }
}

fn answer(
    lookup_id: String,
    card: Option<&InsuranceCardRecord>,
    facility: &str,
    today: &str,
) -> EligibilityAnswer {
    let Some(c) = card else {
        return EligibilityAnswer {
            lookup_id,
            eligible: false,
            reason: Some("unknown_patient".into()),
            card: None,
            registered_facility: None,
            benefit_level: None,
            benefit_percent: None,
            five_years_since: None,
            checked_on: today.into(),
        };
    };
    let s = standing(c, today);
    EligibilityAnswer {
        lookup_id,
        eligible: s == Standing::Active,
        reason: (s != Standing::Active).then(|| s.as_str().to_string()),
        card: Some(CardFacts {
            code: c.card_code.clone(),
            valid_from: c.valid_from.clone(),
            valid_to: c.valid_to.clone(),
            status: s.as_str().into(),
        }),
        registered_facility: Some(Facility {
            code: c.facility_code.clone(),
            name: c.facility_name.clone(),
            is_this_facility: c.facility_code == facility,
        }),
        benefit_level: Some(c.benefit_level),
        benefit_percent: benefit_percent(c.benefit_level),
        five_years_since: c.five_years_since.clone(),
        checked_on: today.into(),
    }
}

/// What the audit log keeps of a look-up: who asked (the hospital, the operator), where,
/// why, about whom, and what it found.
fn event(
    client_id: &str,
    ip: Option<String>,
    req: &EligibilityRequest,
    card: Option<&InsuranceCardRecord>,
    a: &EligibilityAnswer,
) -> crate::audit::Event {
    // The person the look-up was about: the card's holder, else the ID number asked for.
    let subject = card
        .map(|c| c.id_number.clone())
        .or_else(|| req.patient.id_number.clone());
    crate::audit::Event {
        actor: format!("client:{client_id}"),
        action: crate::audit::actions::INSURANCE_LOOKUP,
        subject,
        client_id: Some(client_id.to_string()),
        detail: json!({
            "lookup_id": a.lookup_id,
            "operator": {"name": req.operator.name, "id_number": req.operator.id_number},
            "facility": req.facility,
            "purpose": req.purpose.as_str(),
            "patient": req.patient,
            "eligible": a.eligible,
            "reason": a.reason,
        }),
        ip,
    }
}

/// Look the patient up, record the look-up, answer. `Err` only when a store (the audit log
/// among them) cannot be used: the caller answers 503 and nothing was disclosed.
pub async fn look_up(
    db: &dyn Durable,
    by: &Caller<'_>,
    req: &EligibilityRequest,
    now: UnixTime,
) -> StoreResult<EligibilityAnswer> {
    let today = local_today(now);
    let lookup_id =
        crate::crypto::random_id().map_err(|e| crate::store::StoreError::Other(e.to_string()))?;
    if let Some(id_number) = &req.patient.id_number {
        // By ID number (the chip card): the card is read as the entry is written, in one
        // step with the other look-ups waiting for the log.
        let (client_id, ip) = (by.client_id.to_string(), by.ip.map(String::from));
        let (id, req_kept, day) = (lookup_id.clone(), req.clone(), today.clone());
        let entry = Box::new(move |card: Option<&InsuranceCardRecord>| {
            let a = answer(id, card, &req_kept.facility, &day);
            crate::audit::entry(event(&client_id, ip, &req_kept, card, &a), now)
        });
        let (_, card) = db
            .audited_card(id_number, entry, &crate::audit::link)
            .await?;
        return Ok(answer(lookup_id, card.as_ref(), &req.facility, &today));
    }
    let card = by_code(db, &req.patient).await?;
    let a = answer(lookup_id, card.as_ref(), &req.facility, &today);
    let e = event(
        by.client_id,
        by.ip.map(String::from),
        req,
        card.as_ref(),
        &a,
    );
    crate::audit::record(db, e, now).await?;
    Ok(a)
}
