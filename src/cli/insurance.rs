//! `eidp admin insurance …`: load the health-insurance register (`import`), make synthetic
//! cards for a generated population register (`generate`), and list a hospital's look-ups
//! with their flags (`lookups`, the same listing as `GET /admin/v1/insurance/lookups`).

use std::io::{BufReader, Write};

use clap::Subcommand;
use serde_json::json;

use super::identity::out;
use crate::clock::{Clock, SystemClock};
use crate::identity::insurance::import::{self, Options, Report};
use crate::identity::insurance::synthetic;
use crate::identity::register::date_of;
use crate::rp_api::lookups;
use crate::store::Durable;

#[derive(Subcommand)]
pub enum Insurance {
    /// Load card facts from CSV or JSON Lines (`.jsonl`): every row validated, unchanged
    /// cards recognised and not written, reported.
    Import(super::register::Asked),
    /// Write synthetic cards as CSV for the register `citizens generate --count N --seed S`
    /// writes (the same N and S), valid through `--year` (default: this year).
    Generate {
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        year: Option<i64>,
    },
    /// A hospital's look-ups, newest first, with flags (no matching officer record, an
    /// unusually busy hour).
    Lookups {
        /// The hospital's client id.
        #[arg(long)]
        client: String,
        /// YYYY-MM-DD (default: a week ago).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(db: &dyn Durable, cmd: Insurance) -> Result<(), String> {
    let now = SystemClock.now();
    match cmd {
        Insurance::Import(asked) => import_file(db, &asked).await,
        Insurance::Generate { count, seed, year } => {
            let year = year.unwrap_or_else(|| {
                date_of(now)
                    .get(..4)
                    .and_then(|y| y.parse().ok())
                    .unwrap_or(2026)
            });
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let mut failed = None;
            synthetic::generate(count, seed, year, &date_of(now), |line| {
                if failed.is_none()
                    && let Err(e) = writeln!(stdout, "{line}")
                {
                    failed = Some(e.to_string());
                }
            });
            stdout.flush().map_err(|e| e.to_string())?;
            failed.map_or(Ok(()), Err)
        }
        Insurance::Lookups {
            client,
            since,
            limit,
            json,
        } => {
            let since = match since.as_deref() {
                None => now - 7 * 86_400,
                Some(d) => crate::identity::accounts::day_start(d)
                    .ok_or_else(|| format!("--since: {d:?} is not a date YYYY-MM-DD"))?,
            };
            let l = lookups::for_client(db, &client, since, limit, now)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                println!("{}", json!(l));
                return Ok(());
            }
            println!(
                "{} look-ups since {}; baseline {} per busy hour; {} unusual hours",
                l.lookups.len(),
                date_of(l.since),
                l.baseline_per_hour,
                l.unusual_hours.len()
            );
            for x in &l.lookups {
                println!(
                    "{} {} {} operator {} ({}) facility {} purpose {} patient {} eligible {} {}",
                    x.lookup_id,
                    x.at,
                    x.client_id,
                    x.operator_name,
                    x.operator_id_number,
                    x.facility,
                    x.purpose,
                    x.patient,
                    x.eligible,
                    x.flags.join(",")
                );
            }
            Ok(())
        }
    }
}

async fn import_file(db: &dyn Durable, a: &super::register::Asked) -> Result<(), String> {
    let (format, f) = a.open()?;
    let json = a.json;
    let opts = Options {
        format,
        dry_run: a.dry_run,
        actor: "cli",
    };
    let r = import::import_stream(
        db,
        BufReader::with_capacity(1 << 20, f),
        opts,
        SystemClock.now(),
    )
    .await
    .map_err(|e| a.failed(e))?;
    let v = serde_json::to_value(&r).map_err(|e| e.to_string())?;
    out(json, v, summary(&r));
    if !json {
        for e in &r.rejected {
            eprintln!("line {}: {}: {}", e.line, e.field, e.rule);
        }
    }
    Ok(())
}

fn summary(r: &Report) -> String {
    let verb = if r.dry_run { "would be " } else { "" };
    format!(
        "{} rows: {} {verb}accepted, {} {verb}updated, {} unchanged, {} rejected; {} cards \
         whose ID number is not in the population register{}",
        r.rows,
        r.accepted,
        r.updated,
        r.unchanged,
        r.rejected_count,
        r.not_in_register_count,
        if r.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    )
}
