//! `eidp admin citizens|officers|audit …` and account verification and locking: the identity
//! half of the provisioning contract.

use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::audit;
use crate::clock::{Clock, SystemClock};
use crate::crypto::Kek;
use crate::identity::level2::{self, InPersonCheck, ROLE_ADMIN, ROLE_OFFICER};
use crate::identity::lifecycle::{self, Actor, LockReason};
use crate::identity::{IdNumber, synthetic};
use crate::oidc::clients::{self, NewClient};
use crate::store::{Durable, OfficerRecord};

#[derive(Subcommand)]
pub enum Citizens {
    /// Load population records from CSV or JSON Lines (`.jsonl`), streamed: validated,
    /// deduplicated, unchanged rows recognised and not written, reported.
    Import(super::register::Asked),
    /// The cleansing report on the register as it stands: the same checks and scores as an
    /// import's; open accounts of the deceased are locked (reason `deceased`).
    Report {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 5)]
        phone_threshold: usize,
        /// Persons the scans hold per pass (lower: less memory, more passes).
        #[arg(long, default_value_t = crate::identity::register::cleanse::PASS_PERSONS)]
        pass_size: u64,
    },
    /// Write a synthetic register as CSV to standard output.
    Generate {
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The share (0–1) of households given each defect class of the cleansing report.
        #[arg(long, default_value_t = 0.0)]
        defects: f64,
    },
}

#[derive(Subcommand)]
pub enum Officers {
    /// Create an officer (`--role officer` may verify in person, `--role admin` may lock and
    /// unlock) and the officer's own admin-API credential: prints its client_id and
    /// client_secret, once.
    Create {
        #[arg(long)]
        officer_id: String,
        #[arg(long)]
        name: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The officer's own personal ID number (an officer never acts on their own account).
        #[arg(long)]
        id_number: String,
        /// The unit the officer works for, named in identity assurance (never the officer).
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Issue another admin-API credential bound to an existing officer (e.g. to replace one).
    Credential {
        #[arg(long)]
        officer_id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum Audit {
    /// Print entries as JSON lines, oldest first, and check the hash chain.
    Export {
        /// Unix seconds or YYYY-MM-DD (UTC).
        #[arg(long, default_value = "0")]
        since: String,
    },
}

#[derive(Args)]
pub struct Verify {
    #[arg(long)]
    id_number: String,
    #[arg(long)]
    officer: String,
    #[arg(long)]
    evidence: String,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    chip_authentic: bool,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    biometric_match: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct Lock {
    #[arg(long)]
    id_number: String,
    /// holder_request | terms_violation | card_revoked | deceased | authority_request | card_expired
    #[arg(long)]
    reason: String,
    /// The written reason.
    #[arg(long)]
    note: String,
    /// Who decides (recorded in the audit log).
    #[arg(long, default_value = "operator")]
    actor: String,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct Unlock {
    #[arg(long)]
    id_number: String,
    #[arg(long)]
    note: String,
    #[arg(long, default_value = "operator")]
    actor: String,
    #[arg(long)]
    json: bool,
}

pub(super) fn out(json_mode: bool, v: serde_json::Value, text: String) {
    if json_mode {
        println!("{v}")
    } else {
        println!("{text}")
    }
}

/// On the server itself the operator names the officer (the CLI runs with the server's own
/// rights); the same rules hold as through the API, the officer's own account included.
pub async fn verify(db: &dyn Durable, v: Verify) -> Result<(), String> {
    let check = InPersonCheck {
        evidence_ref: v.evidence,
        chip_authentic: v.chip_authentic,
        biometric_match: v.biometric_match,
    };
    let officer = level2::officer_with_role(db, &v.officer, ROLE_OFFICER)
        .await
        .map_err(|e| e.to_string())?;
    let by = level2::Officer {
        record: &officer,
        client_id: None,
        ip: None,
    };
    let a = level2::verify(db, &v.id_number, &check, &by, SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    out(
        v.json,
        json!({"id_number": a.id_number, "level": a.level}),
        format!("{} is now Level {}", a.id_number, a.level),
    );
    Ok(())
}

pub async fn lock(db: &dyn Durable, l: Lock) -> Result<(), String> {
    if l.note.trim().is_empty() {
        return Err("note: a written reason is required".into());
    }
    let reason = LockReason::parse(&l.reason).map_err(|e| e.to_string())?;
    let account = lifecycle::account_by_id_number(db, &l.id_number)
        .await
        .map_err(|e| e.to_string())?;
    let actor = format!("cli:{}", l.actor);
    lifecycle::lock(
        db,
        &account,
        reason,
        Some(&l.note),
        &Actor {
            id: &actor,
            client_id: None,
            ip: None,
        },
        SystemClock.now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    out(
        l.json,
        json!({"id_number": l.id_number, "state": "locked", "reason": reason.as_str()}),
        format!("{} locked ({})", l.id_number, reason.as_str()),
    );
    Ok(())
}

pub async fn unlock(db: &dyn Durable, u: Unlock) -> Result<(), String> {
    let account = lifecycle::account_by_id_number(db, &u.id_number)
        .await
        .map_err(|e| e.to_string())?;
    let actor = format!("cli:{}", u.actor);
    lifecycle::unlock(
        db,
        &account,
        &u.note,
        &Actor {
            id: &actor,
            client_id: None,
            ip: None,
        },
        SystemClock.now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    out(
        u.json,
        json!({"id_number": u.id_number, "state": "active"}),
        format!("{} unlocked", u.id_number),
    );
    Ok(())
}

pub async fn citizens(db: &dyn Durable, c: Citizens) -> Result<(), String> {
    match c {
        Citizens::Import(asked) => super::register::run(db, asked).await?,
        Citizens::Report {
            json,
            phone_threshold,
            pass_size,
        } => {
            let opts = crate::identity::register::cleanse::Options {
                phone_threshold,
                pass_persons: pass_size,
            };
            super::register::report(db, json, opts).await?
        }
        Citizens::Generate {
            count,
            seed,
            defects,
        } => {
            if !(0.0..=1.0).contains(&defects) {
                return Err("--defects: a share between 0 and 1, e.g. 0.02".into());
            }
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let mut failed = None;
            let today = crate::identity::register::date_of(SystemClock.now());
            let plan = synthetic::Plan {
                count,
                seed,
                defects,
                today,
            };
            synthetic::generate(&plan, |line| {
                if failed.is_none()
                    && let Err(e) = writeln!(stdout, "{line}")
                {
                    failed = Some(e.to_string());
                }
            });
            stdout.flush().map_err(|e| e.to_string())?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }
    Ok(())
}

pub async fn officers(kek: &Kek, db: &dyn Durable, o: Officers) -> Result<(), String> {
    let (officer_id, json) = match o {
        Officers::Create {
            officer_id,
            name,
            roles,
            id_number,
            unit,
            json,
        } => {
            if let Some(bad) = roles
                .iter()
                .find(|r| ![ROLE_OFFICER, ROLE_ADMIN].contains(&r.as_str()))
            {
                return Err(format!("--role: {bad:?} is not officer or admin"));
            }
            let id = IdNumber::parse(&id_number).map_err(|e| format!("--id-number: {e}"))?;
            let rec = OfficerRecord {
                officer_id,
                name,
                roles,
                id_number: Some(id.as_str().to_string()),
                unit: unit.filter(|u| !u.trim().is_empty()),
                created_at: SystemClock.now(),
            };
            db.insert_officer(&rec).await.map_err(|e| e.to_string())?;
            (rec.officer_id, json)
        }
        Officers::Credential { officer_id, json } => {
            if db
                .officer(&officer_id)
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!("no officer {officer_id}"));
            }
            (officer_id, json)
        }
    };
    let (client_id, secret) = officer_credential(kek, db, &officer_id).await?;
    out(
        json,
        json!({"officer_id": officer_id, "client_id": client_id, "client_secret": secret}),
        format!(
            "officer {officer_id}: admin-API credential client_id {client_id}, client_secret {secret} (shown once)"
        ),
    );
    Ok(())
}

/// A new admin client bound to the officer: client credentials, `admin` scope.
async fn officer_credential(
    kek: &Kek,
    db: &dyn Durable,
    officer_id: &str,
) -> Result<(String, String), String> {
    let n = NewClient {
        name: format!("officer {officer_id}"),
        kind: "admin".into(),
        officer_id: Some(officer_id.to_string()),
        ..Default::default()
    };
    let (rec, secret) = clients::build(&n, kek, SystemClock.now()).map_err(|e| e.to_string())?;
    db.insert_client(&rec).await.map_err(|e| e.to_string())?;
    let secret = secret.ok_or("the credential has no secret")?;
    Ok((rec.client_id.to_string(), secret))
}

fn parse_since(s: &str) -> Result<i64, String> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let year = crate::identity::accounts::parse_birth_date(s)
        .map_err(|_| "--since: unix seconds or YYYY-MM-DD".to_string())?;
    let (m, d): (i64, i64) = (s[5..7].parse().unwrap_or(1), s[8..10].parse().unwrap_or(1));
    // Days from civil (H. Hinnant).
    let y = i64::from(year) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400)
}

pub async fn audit(db: &dyn Durable, a: Audit) -> Result<(), String> {
    let Audit::Export { since } = a;
    let since = parse_since(&since)?;
    let rows = db
        .audit_since(since, i64::MAX)
        .await
        .map_err(|e| e.to_string())?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for r in &rows {
        let line = json!({"seq": r.seq, "at": r.at, "actor": r.actor, "action": r.action, "subject": r.subject,
                          "client_id": r.client_id, "detail": serde_json::from_str::<serde_json::Value>(&r.detail).unwrap_or_default(),
                          "ip": r.ip, "hash": crate::crypto::b64url(&r.hash)});
        writeln!(stdout, "{line}").map_err(|e| e.to_string())?;
    }
    stdout.flush().map_err(|e| e.to_string())?;
    audit::verify_chain(&rows).map_err(|seq| format!("audit chain broken at entry {seq}"))?;
    Ok(())
}
