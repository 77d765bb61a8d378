//! `eidp admin citizens import`: a register file streamed in, with progress on standard error
//! (one line redrawn on a terminal: rows, rows/s, how far, time left; a plain line every few
//! seconds otherwise) and the report on standard output, with the cleansing report; and
//! `eidp admin citizens report`, the cleansing report on the register as it stands.

use std::io::{BufReader, IsTerminal, Write};
use std::time::{Duration, Instant};

use serde_json::json;

use super::identity::out;
use crate::clock::{Clock, SystemClock};
use crate::identity::register::import::{self, Format, ImportError, Options};
use crate::identity::register::{ImportReport, cleanse};
use crate::store::Durable;

/// What an import command was asked (`citizens import`, `insurance import`).
#[derive(clap::Args)]
pub struct Asked {
    pub file: String,
    #[arg(long)]
    pub json: bool,
    /// Classify and report only: nothing is written.
    #[arg(long)]
    pub dry_run: bool,
    /// csv | jsonl (default: by the file name).
    #[arg(long)]
    pub format: Option<String>,
    /// Also write the whole report (with the cleansing report) as JSON to this file.
    #[arg(long)]
    pub report: Option<String>,
    /// A phone shared by at least this many adults of different households is reported.
    #[arg(long, default_value_t = 5)]
    pub phone_threshold: usize,
    /// Persons the cleansing report's scans hold per pass (lower: less memory, more passes).
    #[arg(long, default_value_t = cleanse::PASS_PERSONS)]
    pub pass_size: u64,
}

impl Asked {
    /// What to say when the import failed.
    pub fn failed(&self, e: ImportError) -> String {
        match e {
            ImportError::Read(e) => format!("{}: {e}", self.file),
            ImportError::Store(e) => e.to_string(),
        }
    }

    /// The file's format and the file, opened.
    pub fn open(&self) -> Result<(Format, std::fs::File), String> {
        let format = match self.format.as_deref() {
            None => Format::of(&self.file),
            Some("csv") => Format::Csv,
            Some("jsonl") => Format::JsonLines,
            Some(other) => return Err(format!("--format: {other:?} is not csv or jsonl")),
        };
        let f = std::fs::File::open(&self.file).map_err(|e| format!("{}: {e}", self.file))?;
        Ok((format, f))
    }
}

pub async fn run(db: &dyn Durable, a: Asked) -> Result<(), String> {
    let (format, f) = a.open()?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut shown = Shown::new(size);
    let opts = Options {
        format,
        dry_run: a.dry_run,
        actor: "cli",
        progress: &mut |r, bytes| shown.update(r, bytes),
        cleanse: Some(cleanse::Options {
            phone_threshold: a.phone_threshold,
            pass_persons: a.pass_size,
        }),
        // The command line is its own process: beside a running server on the same SQLite
        // file, the server's writes wait for each commit (docs/identity.md).
        alone: true,
    };
    let started = Instant::now();
    let r = import::import_stream(
        db,
        BufReader::with_capacity(1 << 20, f),
        opts,
        SystemClock.now(),
    )
    .await
    .map_err(|e| a.failed(e))?;
    shown.finish();
    let secs = started.elapsed().as_secs_f64();
    let mut v = serde_json::to_value(&r).map_err(|e| e.to_string())?;
    v["seconds"] = json!((secs * 1000.0).round() / 1000.0);
    if let Some(path) = &a.report {
        std::fs::write(path, format!("{v}\n")).map_err(|e| format!("{path}: {e}"))?;
    }
    let mut text = summary(&r, secs);
    if let Some(c) = &r.cleansing {
        text = format!("{text}\n{}", cleanse::summary(c));
    }
    out(a.json, v, text);
    for e in r.invalid.iter().filter(|_| !a.json) {
        eprintln!("line {}: {}: {}", e.line, e.field, e.rule);
    }
    Ok(())
}

/// `eidp admin citizens report`.
pub async fn report(db: &dyn Durable, json: bool, opts: cleanse::Options) -> Result<(), String> {
    let r = cleanse::register(db, opts, SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let v = serde_json::to_value(&r).map_err(|e| e.to_string())?;
    out(json, v, cleanse::summary(&r));
    Ok(())
}

fn summary(r: &ImportReport, secs: f64) -> String {
    let verb = if r.dry_run { "would be " } else { "" };
    format!(
        "{} rows in {secs:.1} s ({:.0} rows/s): {} {verb}imported, {} {verb}updated, {} unchanged, \
         {} duplicates, {} invalid, {} accounts locked{}",
        r.rows,
        r.rows as f64 / secs.max(0.001),
        r.imported,
        r.updated,
        r.unchanged,
        r.duplicates_count,
        r.invalid_count,
        r.locked.len(),
        if r.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    )
}

/// Progress on standard error.
struct Shown {
    size: u64,
    started: Instant,
    last: Instant,
    terminal: bool,
}

impl Shown {
    fn new(size: u64) -> Shown {
        let now = Instant::now();
        Shown {
            size,
            started: now,
            last: now,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn update(&mut self, r: &ImportReport, bytes: u64) {
        let every = if self.terminal {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(5)
        };
        if self.last.elapsed() < every {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let share = if self.size > 0 {
            bytes as f64 / self.size as f64
        } else {
            0.0
        };
        let left = if share > 0.0 {
            secs / share - secs
        } else {
            0.0
        };
        let line = format!(
            "{} rows, {:.0} rows/s, {:.0} % read, about {:.0} s left",
            r.rows,
            r.rows as f64 / secs,
            share * 100.0,
            left
        );
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(err, "\r{line}  ")
        } else {
            writeln!(err, "{line}")
        };
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}
