//! Synthetic insurance cards for a synthetic population register: the people of
//! `identity::synthetic::generate` with the same count, seed and day (a clean register), most
//! of them insured — cards valid through `year`, some expired, a few suspended. Seeded, so the
//! same arguments give the same cards.

use super::COLUMNS;
use crate::identity::register::{csv_field, split_csv_line};
use crate::identity::synthetic::{self, Rng};

/// Facilities people are registered with (synthetic codes; real names).
const FACILITIES: [(&str, &str); 6] = [
    ("01-001", "Bệnh viện Bạch Mai"),
    ("01-002", "Bệnh viện Hữu nghị Việt Đức"),
    ("01-010", "Bệnh viện Đa khoa Xanh Pôn"),
    ("01-031", "Trạm y tế phường Hàng Bài"),
    ("79-001", "Bệnh viện Chợ Rẫy"),
    ("79-024", "Bệnh viện Nhân dân 115"),
];

/// Beneficiary groups by age, with their benefit level: children under six, pupils,
/// employees or households, retirees.
fn group(age: i64, rng: &mut Rng) -> (&'static str, u8) {
    match age {
        ..6 => ("TE", 1),
        6..18 => ("HS", 4),
        60.. => ("HT", 2),
        _ if rng.below(2) == 0 => ("DN", 4),
        _ => ("GD", 4),
    }
}

/// Write cards (header first) for the people of the generated register `(count, seed)` as of
/// `today` (`YYYY-MM-DD`, as `citizens generate` used it): about nine in ten are insured; of
/// those 5 % hold a card that expired last year and 2 % a suspended one.
pub fn generate(count: usize, seed: u64, year: i64, today: &str, mut out: impl FnMut(&str)) {
    let mut rng = Rng(seed.rotate_left(17) | 1);
    out(&COLUMNS.join(","));
    let mut first = true;
    let plan = synthetic::Plan {
        count,
        seed,
        defects: 0.0,
        today: today.to_string(),
    };
    synthetic::generate(&plan, |line| {
        if std::mem::take(&mut first) {
            return; // the register's header
        }
        let cells = split_csv_line(line);
        let (Some(id), Some(birth)) = (cells.first(), cells.get(2)) else {
            return;
        };
        if rng.below(10) == 0 {
            return; // not insured
        }
        let born: i64 = birth.get(..4).and_then(|y| y.parse().ok()).unwrap_or(year);
        let (g, level) = group(year - born, &mut rng);
        let province = id.get(1..3).unwrap_or("01");
        let code = format!("{g}{level}{province}{:010}", rng.below(10_000_000_000));
        let roll = rng.below(100);
        let (from, to, status) = match roll {
            0..5 => (
                format!("{}-01-01", year - 1),
                format!("{}-12-31", year - 1),
                "expired",
            ),
            5..7 => (
                format!("{year}-01-01"),
                format!("{year}-12-31"),
                "suspended",
            ),
            _ => (format!("{year}-01-01"), format!("{year}-12-31"), "active"),
        };
        let (fac, fac_name) = FACILITIES[rng.below(FACILITIES.len() as u64) as usize];
        let five = match rng.below(5) {
            0 | 1 => format!(
                "{}-{:02}-01",
                year - 1 - rng.below(10) as i64,
                1 + rng.below(12)
            ),
            _ => String::new(),
        };
        let row = [
            id.clone(),
            code,
            from,
            to,
            fac.into(),
            fac_name.into(),
            level.to_string(),
            five,
            status.into(),
        ];
        out(&row
            .iter()
            .map(|f| csv_field(f))
            .collect::<Vec<_>>()
            .join(","));
    });
}
