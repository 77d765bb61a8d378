//! The sign-in interaction: one pending authorization request, from `/authorize` to the code,
//! and the state machine that says what it needs next.
//!
//! ```text
//!            ┌──────────── begin (a validated request) ────────────┐
//!            ▼                                                     │
//!   needs sign-in ─▶ needs a further factor ─▶ needs consent ─▶ issue the code
//!        │                  │                        │              │
//!        └──────────────────┴─── reject ─────────────┴──────────────┘──▶ to the client
//! ```
//!
//! [`Interaction::advance`] loads what the rules need (consent on record, the account's
//! factors), applies [`decide`], and returns a [`Next`]: the page to show, or the URL to send
//! the browser to (a code or an error, after which the request is spent). Each page reports
//! what the person did ([`Interaction::signed_in`], [`Interaction::consented`],
//! [`Interaction::declined`]) and advances again. Nothing here knows HTTP; the rules are in
//! `decide` (pure, unit-tested), the stored request in `pending`.

mod decide;
pub mod pending;
#[cfg(test)]
mod tests;

pub use decide::{Facts, Step, decide, purpose_key, required, wanted};
pub use pending::{Pending, Progress};

use super::authorize::{AuthRequest, error_url_for, issue_code};
use super::{OAuthError, Provider};
use crate::authn::Acr;
use crate::authn::Session;
use crate::authn::inventory::{self, Factor, Inventory};
use crate::store::{AccountRecord, ClientRecord, ConsentRecord, Consented, StoreError};

/// What the browser is shown or sent to next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// The sign-in page.
    SignIn,
    /// The further-factor page.
    StepUp(StepUp),
    /// The consent page, for these scopes.
    Consent { scopes: Vec<String> },
    /// To the client: a code, or an error the client may hear. The request is spent.
    ToClient(String),
    /// The account is below the client's minimum level: a page says why and how to reach
    /// `need`, and `back` takes the person to the client with `access_denied`. The request
    /// is spent.
    LevelTooLow {
        client_name: String,
        need: i64,
        have: i64,
        back: String,
    },
    /// The provider could not decide now (a store is down): an error page; the request stays,
    /// so the person can try again.
    Unavailable(OAuthError),
}

/// A step-up to show: the level needed, and the account's factors that reach it, best first
/// (the first is the one to recommend).
#[derive(Debug, Clone, PartialEq)]
pub struct StepUp {
    pub need: Acr,
    pub required: bool,
    pub factors: Vec<Factor>,
    pub inventory: Inventory,
}

/// Why a pending request cannot be continued.
#[derive(Debug, Clone, PartialEq)]
pub enum Gone {
    /// Expired, spent, or never existed.
    Expired,
    /// Its client was removed meanwhile.
    UnknownClient,
    /// Its client was disabled meanwhile.
    DisabledClient,
    Unavailable(OAuthError),
}

/// The interaction's services: the provider, whether passkeys can be used on this issuer, and
/// whether a face matcher is configured (the biometric factor loa:3 and loa:4 need).
pub struct Interaction<'a> {
    pub p: &'a Provider,
    pub passkeys: bool,
    pub face: bool,
}

impl Interaction<'_> {
    fn lifetime(&self) -> i64 {
        self.p.cfg.lifetimes.authorization_request
    }

    /// Keep a validated request and decide its first step.
    pub async fn begin(
        &self,
        request: AuthRequest,
        client: &ClientRecord,
        signed_in: Option<(&Session, &AccountRecord)>,
    ) -> (Option<String>, Next) {
        let now = self.p.now();
        match pending::create(self.p.eph.as_ref(), request, self.lifetime(), now).await {
            Ok((ar, p)) => {
                let next = self.advance(&ar, p, client, signed_in).await;
                (Some(ar), next)
            }
            Err(e) => (None, Next::Unavailable(e.into())),
        }
    }

    /// The pending request `ar` and its client.
    pub async fn load(&self, ar: &str) -> Result<(Pending, ClientRecord), Gone> {
        let unavailable = |e: StoreError| Gone::Unavailable(e.into());
        let p = pending::load(self.p.eph.as_ref(), ar)
            .await
            .map_err(unavailable)?
            .ok_or(Gone::Expired)?;
        match self.p.registered_client(&p.request.client_id).await {
            Ok(Some(c)) if super::clients::is_disabled(&c) => Err(Gone::DisabledClient),
            Ok(Some(c)) => Ok((p, c)),
            Ok(None) => Err(Gone::UnknownClient),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn save(&self, ar: &str, p: &Pending) -> Result<(), StoreError> {
        pending::save(self.p.eph.as_ref(), ar, p, self.lifetime(), self.p.now()).await
    }

    /// What the request needs next, given the browser's honoured session (if any).
    pub async fn advance(
        &self,
        ar: &str,
        mut p: Pending,
        client: &ClientRecord,
        signed_in: Option<(&Session, &AccountRecord)>,
    ) -> Next {
        let mut retried = false;
        loop {
            let (step, consent) = match self.step(&p, client, signed_in).await {
                Ok(step) => step,
                Err(e) => return self.refuse(ar, &p, e).await,
            };
            let next = match (step, signed_in) {
                (Step::SignIn, _) => Next::SignIn,
                (Step::Consent { scopes }, _) => Next::Consent { scopes },
                (Step::StepUp { need, required }, Some((session, account))) => {
                    match self.step_up(session, account, need, required).await {
                        Ok(Some(s)) => Next::StepUp(s),
                        Ok(None) if required => {
                            let e = OAuthError::unmet_authentication_requirements(
                                "the account has no factor that reaches the required level",
                            );
                            return self.refuse(ar, &p, e).await;
                        }
                        // Only asked for, and nothing reaches it: go on at the level reached.
                        Ok(None) => {
                            p.progress.step_up_skipped = true;
                            if let Err(e) = self.save(ar, &p).await {
                                return Next::Unavailable(e.into());
                            }
                            continue;
                        }
                        Err(e) => return Next::Unavailable(e.into()),
                    }
                }
                (Step::Issue, Some((session, _))) => {
                    let details = p.request.authorization_details.as_ref();
                    let cid = client.client_id.as_str();
                    match super::transfers::approve(self.p, details, session, cid).await {
                        Ok(Some(approved)) => p.request.authorization_details = Some(approved),
                        // The day's total moved meanwhile: decide again (now a step-up).
                        Ok(None) if details.is_some() && !retried => {
                            retried = true;
                            continue;
                        }
                        Ok(None) if details.is_some() => {
                            let e = OAuthError::unmet_authentication_requirements(
                                "this transfer needs a biometric sign-in",
                            );
                            return self.refuse(ar, &p, e).await;
                        }
                        Ok(None) => {}
                        Err(e) => return self.refuse(ar, &p, e).await,
                    }
                    let consented = crate::consent::consented(consent.as_ref());
                    return self.issue(ar, &p, session, consented).await;
                }
                (Step::LevelTooLow { need }, Some((_, account))) => {
                    return match self.refuse(ar, &p, decide::level_too_low(need)).await {
                        Next::ToClient(back) => Next::LevelTooLow {
                            client_name: client.name.clone(),
                            need,
                            have: account.level,
                            back,
                        },
                        other => other,
                    };
                }
                // Steps past sign-in are only decided with a session.
                (_, None) => Next::SignIn,
            };
            return next;
        }
    }

    async fn step(
        &self,
        p: &Pending,
        client: &ClientRecord,
        signed_in: Option<(&Session, &AccountRecord)>,
    ) -> Result<(Step, Option<ConsentRecord>), OAuthError> {
        let consent = match signed_in {
            Some((s, _)) => {
                crate::consent::lookup(self.p.db.as_ref(), &s.sub, &client.client_id).await?
            }
            None => None,
        };
        let rp_sub =
            signed_in.map(|(s, _)| super::subject::for_client(&self.p.kek, client, &s.sub));
        let transfer_need = match signed_in {
            Some((s, _)) => {
                let details = p.request.authorization_details.as_ref();
                super::transfers::need(self.p, details, &s.sub, client.client_id.as_str()).await?
            }
            None => None,
        };
        let step = decide(&Facts {
            request: &p.request,
            progress: &p.progress,
            client,
            session: signed_in,
            rp_sub: rp_sub.as_ref(),
            consent: consent.as_ref(),
            transfer_need,
            now: self.p.now(),
            reachable: crate::authn::assurance::highest_reachable(self.face),
        })?;
        Ok((step, consent))
    }

    async fn step_up(
        &self,
        session: &Session,
        account: &AccountRecord,
        need: Acr,
        required: bool,
    ) -> Result<Option<StepUp>, StoreError> {
        let inv = inventory::of(self.p.db.as_ref(), account, self.passkeys, self.face).await?;
        let factors = inv.reaching(&session.amr, need);
        Ok((!factors.is_empty()).then_some(StepUp {
            need,
            required,
            factors,
            inventory: inv,
        }))
    }

    /// Issue the code; the request is spent either way.
    async fn issue(
        &self,
        ar: &str,
        p: &Pending,
        session: &Session,
        consented: Option<Consented>,
    ) -> Next {
        let dropped = pending::drop(self.p.eph.as_ref(), ar);
        let code = issue_code(self.p, &p.request, session, consented);
        match tokio::join!(code, dropped).0 {
            Ok(url) => Next::ToClient(url),
            Err(e) if e.is_ours() => Next::Unavailable(e),
            Err(e) => Next::ToClient(error_url_for(self.p, &p.request, &e)),
        }
    }

    /// Send `e` to the client (the request is spent), unless the provider could not decide.
    async fn refuse(&self, ar: &str, p: &Pending, e: OAuthError) -> Next {
        if e.is_ours() {
            return Next::Unavailable(e);
        }
        if let Err(e) = pending::drop(self.p.eph.as_ref(), ar).await {
            return Next::Unavailable(e.into());
        }
        Next::ToClient(error_url_for(self.p, &p.request, &e))
    }

    /// The person signed in (or stepped up) for this request: go on.
    pub async fn signed_in(
        &self,
        ar: &str,
        mut p: Pending,
        client: &ClientRecord,
        session: (&Session, &AccountRecord),
    ) -> Next {
        p.progress.signed_in = true;
        if let Err(e) = self.save(ar, &p).await {
            return Next::Unavailable(e.into());
        }
        self.advance(ar, p, client, Some(session)).await
    }

    /// The person approved the consent page (`approval`, built by `offer::approval` from
    /// the page they saw): record it (history first) and go on.
    pub async fn consented(
        &self,
        ar: &str,
        mut p: Pending,
        client: &ClientRecord,
        session: (&Session, &AccountRecord),
        ip: Option<&str>,
        approval: crate::consent::Approval,
    ) -> Next {
        let giving = crate::consent::Giving {
            sub: &session.0.sub,
            client_id: &client.client_id,
            ip,
            now: self.p.now(),
        };
        if let Err(e) = crate::consent::give(self.p.db.as_ref(), &giving, approval).await {
            return Next::Unavailable(e.into());
        }
        p.progress.consented = true;
        if let Err(e) = self.save(ar, &p).await {
            return Next::Unavailable(e.into());
        }
        self.advance(ar, p, client, Some(session)).await
    }

    /// The person declined (consent, or a step-up they cannot give): the client hears
    /// `access_denied`.
    pub async fn declined(&self, ar: &str, p: &Pending) -> Next {
        self.refuse(ar, p, OAuthError::access_denied("the person declined"))
            .await
    }
}
