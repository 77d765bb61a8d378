//! `eidp admin backchannel …`: the back-channel logouts that did not arrive, for operators
//! (the same listing as `GET /admin/v1/backchannel-logouts`).

use clap::Subcommand;
use serde_json::json;

use crate::backchannel;
use crate::store::{DeliveryFilter, Durable};

#[derive(Subcommand)]
pub enum Backchannel {
    /// Deliveries still pending (with their next attempt) and those given up, newest first.
    List {
        /// Only those given up after the last allowed attempt.
        #[arg(long, conflicts_with = "pending")]
        failed: bool,
        /// Only those still to be delivered.
        #[arg(long)]
        pending: bool,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// One JSON document instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(db: &dyn Durable, cmd: Backchannel) -> Result<(), String> {
    let Backchannel::List {
        failed,
        pending,
        limit,
        json,
    } = cmd;
    let filter = match (failed, pending) {
        (true, _) => DeliveryFilter::Failed,
        (false, true) => DeliveryFilter::Pending,
        (false, false) => DeliveryFilter::Undelivered,
    };
    let rows = backchannel::list(db, filter, limit)
        .await
        .map_err(|e| e.to_string())?;
    if json {
        println!("{}", json!({ "deliveries": rows }));
        return Ok(());
    }
    if rows.is_empty() {
        println!("no undelivered back-channel logouts");
    }
    for r in rows {
        let when = match (r.failed_at, r.next_attempt_at) {
            (Some(t), _) => format!("failed at {t}"),
            (None, Some(t)) => format!("next attempt at {t}"),
            (None, None) => String::new(),
        };
        println!(
            "{} {} client {} {} attempts {} created {} {} last error: {}",
            r.id,
            r.state,
            r.client_id,
            r.uri,
            r.attempts,
            r.created_at,
            when,
            r.last_error.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}
