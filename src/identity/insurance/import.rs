//! Importing the insurance fund's export (CSV or JSON Lines, columns as [`super::COLUMNS`]):
//! streamed, every row validated, each batch classified in one read by content hash (new,
//! changed, unchanged) and written in one transaction after one history entry. Idempotent: the
//! same file again writes nothing. The report counts accepted, updated, unchanged and rejected
//! rows (with line, field and reason) and lists cards whose ID number the population register
//! does not know (accepted all the same: the register may catch up).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::BufRead;

use serde::Serialize;
use serde_json::{Value, json};

use super::{content_hash, validate_row};
use crate::clock::UnixTime;
use crate::identity::register::import::{BATCH, Format, ImportError, LISTED};
use crate::identity::register::{FieldError, split_csv_line};
use crate::store::{Durable, InsuranceCardRecord, StoreError};

#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Nothing was written: the counts say what an import would do.
    pub dry_run: bool,
    pub rows: usize,
    /// New cards.
    pub accepted: usize,
    pub updated: usize,
    /// Cards on file with the same facts: not written.
    pub unchanged: usize,
    pub rejected_count: usize,
    /// The first [`LISTED`] reasons, with line and field.
    pub rejected: Vec<FieldError>,
    /// Accepted cards whose ID number is not in the population register.
    pub not_in_register_count: usize,
    pub not_in_register: Vec<NotInRegister>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotInRegister {
    pub line: usize,
    pub id_number: String,
}

impl Report {
    fn reject(&mut self, errs: Vec<FieldError>) {
        self.rejected_count += 1;
        let room = LISTED.saturating_sub(self.rejected.len());
        self.rejected.extend(errs.into_iter().take(room));
    }
}

/// How to import: the file's format, whether to write, who imports (`cli`, `officer:ID`).
pub struct Options<'a> {
    pub format: Format,
    pub dry_run: bool,
    pub actor: &'a str,
}

fn key(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// The rows of a file, each as a column → value lookup (or why the line is not one).
struct Rows {
    format: Format,
    header: Option<Vec<String>>,
}

impl Rows {
    /// `None` for the CSV header line; otherwise the row's fields.
    fn fields(
        &mut self,
        text: &str,
        no: usize,
    ) -> Option<Result<Vec<(String, String)>, FieldError>> {
        match self.format {
            Format::Csv => match &self.header {
                None => {
                    let h = split_csv_line(text)
                        .into_iter()
                        .map(|h| h.trim().to_string());
                    self.header = Some(h.collect());
                    None
                }
                Some(h) => Some(Ok(h.iter().cloned().zip(split_csv_line(text)).collect())),
            },
            Format::JsonLines => Some(match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(o)) => Ok(o
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(s) => s,
                            Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        (k, v)
                    })
                    .collect()),
                _ => Err(FieldError {
                    line: no,
                    field: "(line)".into(),
                    rule: "not a JSON object".into(),
                }),
            }),
        }
    }
}

/// Import `reader` into the insurance register.
pub async fn import_stream<R: BufRead>(
    db: &dyn Durable,
    reader: R,
    opts: Options<'_>,
    now: UnixTime,
) -> Result<Report, ImportError> {
    let imported = import_rows(db, reader, opts, now).await;
    let ended = db.end_bulk_load().await;
    let report = imported?;
    ended?;
    Ok(report)
}

async fn import_rows<R: BufRead>(
    db: &dyn Durable,
    mut reader: R,
    opts: Options<'_>,
    now: UnixTime,
) -> Result<Report, ImportError> {
    let mut report = Report {
        dry_run: opts.dry_run,
        ..Default::default()
    };
    let mut rows = Rows {
        format: opts.format,
        header: None,
    };
    let (mut seen_ids, mut seen_codes) = (HashSet::new(), HashSet::new());
    let mut batch: Vec<(usize, InsuranceCardRecord)> = Vec::with_capacity(BATCH);
    let (mut line, mut no) = (String::new(), 0usize);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        no += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        let Some(fields) = rows.fields(text, no) else {
            continue;
        };
        report.rows += 1;
        let card = fields.map_err(|e| vec![e]).and_then(|f| {
            let get = |name: &str| {
                f.iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            validate_row(no, get, now)
        });
        let card = match card {
            Ok(c) => c,
            Err(errs) => {
                report.reject(errs);
                continue;
            }
        };
        let repeat = |field: &str, what: &str| FieldError {
            line: no,
            field: field.into(),
            rule: format!("{what} appears more than once in the file; the first row was kept"),
        };
        if !seen_ids.insert(key(&card.id_number)) {
            report.reject(vec![repeat("id_number", "id_number")]);
            continue;
        }
        if !seen_codes.insert(key(&card.card_code)) {
            report.reject(vec![repeat("card_code", "card_code")]);
            continue;
        }
        batch.push((no, card));
        if batch.len() == BATCH {
            flush(db, std::mem::take(&mut batch), &opts, &mut report, now).await?;
        }
    }
    flush(db, batch, &opts, &mut report, now).await?;
    Ok(report)
}

/// Check a batch against the stores (codes held by someone else; ID numbers the population
/// register lacks), classify it by content hash, and write what is new or changed.
async fn flush(
    db: &dyn Durable,
    batch: Vec<(usize, InsuranceCardRecord)>,
    opts: &Options<'_>,
    report: &mut Report,
    now: UnixTime,
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = batch.iter().map(|(_, c)| c.id_number.clone()).collect();
    let codes: Vec<String> = batch.iter().map(|(_, c)| c.card_code.clone()).collect();
    let (known, holders, people) = tokio::try_join!(
        db.card_hashes(&ids),
        db.card_code_holders(&codes),
        db.person_hashes(&ids)
    )?;
    let mut held: HashMap<&str, Vec<&str>> = HashMap::new();
    for (code, id) in &holders {
        held.entry(code.as_str()).or_default().push(id.as_str());
    }
    let lines = (batch[0].0, batch[batch.len() - 1].0);
    let (mut write, mut new) = (Vec::new(), 0);
    for (no, card) in batch {
        let other = held
            .get(card.card_code.as_str())
            .and_then(|ids| ids.iter().find(|id| **id != card.id_number));
        if let Some(other) = other {
            report.reject(vec![FieldError {
                line: no,
                field: "card_code".into(),
                rule: format!(
                    "card_code {} is linked to another ID number ({other})",
                    card.card_code
                ),
            }]);
            continue;
        }
        if !people.contains_key(&card.id_number) {
            report.not_in_register_count += 1;
            if report.not_in_register.len() < LISTED {
                report.not_in_register.push(NotInRegister {
                    line: no,
                    id_number: card.id_number.clone(),
                });
            }
        }
        let hash = content_hash(&card);
        match known.get(&card.id_number) {
            Some((_, h)) if *h == hash => {
                report.unchanged += 1;
                continue;
            }
            Some(_) => report.updated += 1,
            None => {
                report.accepted += 1;
                new += 1;
            }
        }
        write.push((card, hash));
    }
    if opts.dry_run || write.is_empty() {
        return Ok(());
    }
    // The history first: a batch the audit log cannot hold is not written.
    let event = crate::audit::Event {
        actor: opts.actor.into(),
        action: crate::audit::actions::INSURANCE_REGISTER_UPDATED,
        detail: json!({"lines": [lines.0, lines.1], "accepted": new, "updated": write.len() - new}),
        ..Default::default()
    };
    crate::audit::record(db, event, now).await?;
    db.upsert_cards(&write).await
}
