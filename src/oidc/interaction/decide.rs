//! The state machine's rules, pure: given the request, how far it got, the client, the
//! session and the consent on record, what is needed next (OIDC Core §3.1.2.1, §3.1.2.3,
//! §5.5.1.1).
//!
//! ```text
//! sign in ─▶ account level ─▶ required level ─▶ asked-for level ─▶ consent ─▶ issue
//! ```
//! With `prompt=none` every "needs" is an error for the client instead.

use serde_json::Value;

use super::pending::Progress;
use crate::authn::{Acr, Session};
use crate::clock::UnixTime;
use crate::ids::Subject;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::clients::purposes;
use crate::oidc::{OAuthError, claims, policy};
use crate::store::{AccountRecord, ClientRecord, ConsentRecord};

/// What the request needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    SignIn,
    /// A further factor until the session reaches `need`; `required` when the client or an
    /// essential `acr` claim demands it, not only asks (`acr_values`).
    StepUp {
        need: Acr,
        required: bool,
    },
    /// Consent to these scopes.
    Consent {
        scopes: Vec<String>,
    },
    /// The account is below the client's minimum level: the person is told why and how to
    /// reach it, then the client gets `access_denied`.
    LevelTooLow {
        need: i64,
    },
    Issue,
}

/// The error the client gets when the account's level is below its minimum.
pub fn level_too_low(need: i64) -> OAuthError {
    OAuthError::access_denied(format!("this service requires a Level-{need} e-ID account"))
}

/// Everything the rules look at.
pub struct Facts<'a> {
    pub request: &'a AuthRequest,
    pub progress: &'a Progress,
    pub client: &'a ClientRecord,
    /// The honoured session and its account, if the browser has one.
    pub session: Option<(&'a Session, &'a AccountRecord)>,
    /// The `sub` the client knows the session's person by (pairwise or public), to compare
    /// with an `id_token_hint`.
    pub rp_sub: Option<&'a Subject>,
    pub consent: Option<&'a ConsentRecord>,
    /// The level a transfer in the request needs (`rar::level_for`), given the day so far.
    pub transfer_need: Option<Acr>,
    pub now: UnixTime,
    /// The highest level the methods offered here reach (`assurance::highest_reachable`).
    pub reachable: Acr,
}

/// The level the request *requires*: the client's minimum and an essential `acr` claim
/// (OIDC Core §5.5.1.1), whichever is higher.
pub fn required(req: &AuthRequest, client: &ClientRecord) -> Option<Acr> {
    // The lowest level is no requirement: every session has it.
    let from_client = Some(policy::min_acr(client)).filter(|a| *a > Acr::Loa1);
    let essential = req
        .claims
        .as_ref()
        .and_then(|c| c.get("id_token"))
        .and_then(|i| i.get("acr"))
        .filter(|a| a.get("essential").and_then(Value::as_bool) == Some(true))
        .and_then(lowest_named);
    from_client.max(essential)
}

/// The level merely *asked for* with `acr_values` (voluntary): the lowest one named.
pub fn wanted(req: &AuthRequest) -> Option<Acr> {
    req.acr_values.iter().filter_map(|a| Acr::parse(a)).min()
}

/// The lowest level an `acr` claim request names in `value`/`values` (any of them satisfies).
fn lowest_named(acr: &Value) -> Option<Acr> {
    let mut names: Vec<&str> = acr
        .get("values")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    names.extend(acr.get("value").and_then(Value::as_str));
    names.into_iter().filter_map(Acr::parse).min()
}

/// The purpose the request is for, as a consent record names it (`id@version`).
pub fn purpose_key(req: &AuthRequest, client: &ClientRecord) -> Option<String> {
    purposes::chosen(&client.settings.purposes, req.purpose.as_deref())
        .map(|p| format!("{}@{}", p.id, p.version))
}

fn needs_sign_in(f: &Facts<'_>, s: &Session) -> bool {
    let r = f.request;
    (r.prompt.iter().any(|p| p == "login") && !f.progress.signed_in)
        || r.max_age.is_some_and(|m| f.now - s.auth_time > m)
        || r.hint_sub.as_ref().is_some_and(|h| Some(h) != f.rp_sub)
}

pub fn decide(f: &Facts<'_>) -> Result<Step, OAuthError> {
    let (req, client) = (f.request, f.client);
    let silent = req.prompt.iter().any(|p| p == "none");
    let required = required(req, client).max(f.transfer_need);
    // Refuse before asking for anything when no method here can reach the level.
    if required.is_some_and(|r| r > f.reachable) {
        return Err(OAuthError::unmet_authentication_requirements(
            "the required authentication level cannot be reached with the available methods",
        ));
    }
    let (session, account) = match f.session {
        Some((s, a)) if !needs_sign_in(f, s) => (s, a),
        _ if silent => return Err(OAuthError::login_required("the person must sign in")),
        _ => return Ok(Step::SignIn),
    };
    let min_level = policy::min_account_level(client);
    if account.level < min_level {
        return match silent {
            true => Err(level_too_low(min_level)),
            false => Ok(Step::LevelTooLow { need: min_level }),
        };
    }
    if let Some(need) = required.filter(|r| session.acr < *r) {
        return match silent {
            true => Err(OAuthError::login_required("a stronger sign-in is required")),
            false => Ok(Step::StepUp {
                need,
                required: true,
            }),
        };
    }
    let asked = wanted(req).map(|w| w.min(f.reachable));
    if let Some(need) = asked.filter(|w| session.acr < *w)
        && !f.progress.step_up_skipped
        && !silent
    {
        return Ok(Step::StepUp {
            need,
            required: false,
        });
    }
    let scopes = claims::consent_scopes(&req.scopes, req.claims.as_ref());
    let offered = claims::offered(&req.scopes, req.claims.as_ref());
    let asking = crate::consent::Asking {
        scopes: &scopes,
        claims: &offered,
        purpose: purpose_key(req, client),
    };
    // A transfer is approved each time: no standing consent covers the next one.
    let forced = req.prompt.iter().any(|p| p == "consent") || req.authorization_details.is_some();
    let covered = crate::consent::covers(f.consent, &asking) && !forced;
    if !covered && !f.progress.consented {
        return match silent {
            true => Err(OAuthError::consent_required("the person must consent")),
            false => Ok(Step::Consent { scopes }),
        };
    }
    Ok(Step::Issue)
}
