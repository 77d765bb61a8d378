//! Whole-table reads on PostgreSQL through `COPY … TO STDOUT` (text format), for the cleansing
//! report's scans. Fetched as rows, each of a million rows went through sqlx's row decoding —
//! a type check, a UTF-8 check and a copy per column — and that, not PostgreSQL, was most of
//! the report's time (12 s of eidp's CPU on a million records). Here a row is a line: split on
//! tabs, checked as UTF-8 once, and a field copied only where it holds an escape.

use std::borrow::Cow;

use futures_util::TryStreamExt;
use sqlx::postgres::PgPoolCopyExt;

use super::db_err;
use crate::store::{StoreError, StoreResult};

/// One row's fields: `None` for NULL.
pub(super) type Fields<'a> = [Option<Cow<'a, str>>];

/// Run `copy` (a `COPY (…) TO STDOUT` statement) and hand each row to `each`.
pub(super) async fn rows(
    p: &sqlx::PgPool,
    copy: &'static str,
    each: &mut (dyn FnMut(&Fields<'_>) + Send),
) -> StoreResult<()> {
    let mut stream = p.copy_out_raw(copy).await.map_err(db_err)?;
    // A message usually holds one whole row; what a message leaves unfinished waits here.
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.try_next().await.map_err(db_err)? {
        let data: &[u8] = if pending.is_empty() {
            &chunk
        } else {
            pending.extend_from_slice(&chunk);
            &pending
        };
        let done = match data.iter().rposition(|b| *b == b'\n') {
            Some(at) => at + 1,
            None => 0,
        };
        let mut fields = Vec::with_capacity(16);
        for line in data[..done]
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
        {
            split(line, &mut fields)?;
            each(&fields);
        }
        let rest = data[done..].to_vec();
        pending = rest;
    }
    if !pending.is_empty() {
        let mut fields = Vec::new();
        split(&pending, &mut fields)?;
        each(&fields);
    }
    Ok(())
}

/// A line's fields, into `out`.
fn split<'a>(line: &'a [u8], out: &mut Vec<Option<Cow<'a, str>>>) -> StoreResult<()> {
    let line = std::str::from_utf8(line)
        .map_err(|e| StoreError::Corrupt(format!("COPY row is not UTF-8: {e}")))?;
    out.clear();
    out.extend(line.split('\t').map(field));
    Ok(())
}

/// One field of COPY's text format: `\N` is NULL; a backslash escapes the character after it
/// (`\t`, `\n`, `\\`, … and octal `\ooo` / hex `\xhh` bytes, which COPY does not write but may
/// read).
fn field(f: &str) -> Option<Cow<'_, str>> {
    if f == "\\N" {
        return None;
    }
    if !f.contains('\\') {
        return Some(Cow::Borrowed(f));
    }
    let b = f.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 == b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let (byte, used) = escape(&b[i + 1..]);
        out.push(byte);
        i += 1 + used;
    }
    Some(Cow::Owned(String::from_utf8_lossy(&out).into_owned()))
}

/// The byte an escape stands for (`rest` follows the backslash), and how many bytes it used.
fn escape(rest: &[u8]) -> (u8, usize) {
    let digits = |radix: u32, from: usize, max: usize| {
        let run: Vec<u8> = rest[from..]
            .iter()
            .take(max)
            .take_while(|c| (**c as char).is_digit(radix))
            .copied()
            .collect();
        let value = run.iter().fold(0u32, |n, c| {
            n * radix + (*c as char).to_digit(radix).unwrap_or(0)
        });
        (u8::try_from(value & 0xff).unwrap_or(0), run.len())
    };
    match rest[0] {
        b'b' => (8, 1),
        b'f' => (12, 1),
        b'n' => (b'\n', 1),
        b'r' => (b'\r', 1),
        b't' => (b'\t', 1),
        b'v' => (11, 1),
        b'x' => match digits(16, 1, 2) {
            (_, 0) => (b'x', 1),
            (v, n) => (v, 1 + n),
        },
        b'0'..=b'7' => {
            let (v, n) = digits(8, 0, 3);
            (v, n)
        }
        other => (other, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Vec<Option<String>> {
        let mut out = Vec::new();
        split(line.as_bytes(), &mut out).unwrap();
        out.into_iter().map(|f| f.map(Cow::into_owned)).collect()
    }

    #[test]
    fn nulls_plain_fields_and_escapes() {
        assert_eq!(
            fields("079301000123\t\\N\tHà Nội\ta\\tb\\\\c\\nd"),
            vec![
                Some("079301000123".into()),
                None,
                Some("Hà Nội".into()),
                Some("a\tb\\c\nd".into()),
            ]
        );
        assert_eq!(fields("\\x41\\101\\q"), vec![Some("AAq".into())]);
        assert_eq!(fields(""), vec![Some(String::new())]);
        assert_eq!(fields("end\\"), vec![Some("end\\".into())]);
    }

    #[test]
    fn a_row_that_is_not_utf8_is_refused() {
        let mut out = Vec::new();
        assert!(split(b"\xff\tx", &mut out).is_err());
    }
}
