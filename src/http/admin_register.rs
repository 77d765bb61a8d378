//! `POST /admin/v1/citizens/import`: a register file uploaded by an officer with the `admin`
//! role — the same import as `eidp admin citizens import` (`identity::register::import`),
//! answered with its report and, unless a dry run, its cleansing report (`cleansing`). `?dry_run=true` classifies only; the format follows the
//! Content-Type (`application/x-ndjson` or `application/jsonl`: JSON Lines; otherwise CSV) or
//! `?format=csv|jsonl`. The body is bounded ([`MAX_UPLOAD`]); bigger files go through the CLI.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::admin::{admin_officer, answer, error, identity_error};
use super::{AppState, form};
use crate::identity::register::import::{self, Format, ImportError, Options};

/// 64 MiB: about 400 000 register rows.
pub const MAX_UPLOAD: usize = 64 << 20;

#[derive(Deserialize, Default)]
struct Query {
    dry_run: Option<String>,
    format: Option<String>,
}

pub async fn import(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let (officer, _) = match admin_officer(&s, &headers, "importing the register").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let q: Query = match form::parse(q.unwrap_or_default().as_bytes()) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_request", &e.description),
    };
    let dry_run = match q.dry_run.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "dry_run: true or false",
            );
        }
    };
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let format = match q.format.as_deref() {
        Some("csv") => Format::Csv,
        Some("jsonl") => Format::JsonLines,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "format: csv or jsonl",
            );
        }
        None if ctype.starts_with("application/x-ndjson")
            || ctype.starts_with("application/jsonl") =>
        {
            Format::JsonLines
        }
        None => Format::Csv,
    };
    let actor = format!("officer:{}", officer.officer_id);
    let opts = Options {
        format,
        dry_run,
        actor: &actor,
        progress: &mut |_, _| {},
        cleanse: Some(Default::default()),
        alone: false,
    };
    match import::import_stream(s.p.db.as_ref(), &body[..], opts, s.p.now()).await {
        Ok(report) => answer(
            StatusCode::OK,
            serde_json::to_value(&report).unwrap_or_default(),
        ),
        Err(ImportError::Store(e)) => identity_error(e.into()),
        Err(ImportError::Read(e)) => {
            error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string())
        }
    }
}
