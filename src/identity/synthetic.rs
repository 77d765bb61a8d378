//! A synthetic population register for development, tests and benchmarks: valid ID numbers
//! across all 63 provinces, Vietnamese names, households, phones. Seeded, so the same seed
//! gives the same register.

use super::id_number::{Sex, make, provinces};
use super::register::{COLUMNS, csv_field};

const FAMILY: [&str; 14] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô",
];
const MIDDLE_M: [&str; 5] = ["Văn", "Hữu", "Đức", "Minh", "Quốc"];
const MIDDLE_F: [&str; 5] = ["Thị", "Ngọc", "Thu", "Thanh", "Kim"];
const GIVEN_M: [&str; 8] = [
    "An", "Bảo", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Tuấn",
];
const GIVEN_F: [&str; 8] = ["Anh", "Bình", "Chi", "Hà", "Hương", "Lan", "Mai", "Trang"];
const STREETS: [&str; 6] = [
    "Trần Hưng Đạo",
    "Lê Lợi",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
];

/// xorshift64*: tiny, deterministic, good enough for test data (never for secrets).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(super) fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Write `count` records as CSV (header first) to `out`, one line at a time.
pub fn generate(count: usize, seed: u64, mut out: impl FnMut(&str)) {
    let mut rng = Rng(seed | 1);
    let provs: Vec<(&str, &str)> = provinces().collect();
    out(&COLUMNS.join(","));
    let mut household = String::new();
    let mut used = std::collections::HashSet::new();
    let mut i = 0;
    while i < count {
        let (code, name) = provs[rng.below(provs.len() as u64) as usize];
        let sex = if rng.below(2) == 0 {
            Sex::Male
        } else {
            Sex::Female
        };
        let year = 1940 + rng.below(86) as u16;
        let (month, day) = (1 + rng.below(12), 1 + rng.below(28));
        let serial = rng.below(1_000_000) as u32;
        let Ok(id) = make(code, year, sex, serial) else {
            continue;
        };
        if !used.insert(id.as_str().to_string()) {
            continue;
        }
        let (middle, given) = match sex {
            Sex::Male => (rng.pick(&MIDDLE_M), rng.pick(&GIVEN_M)),
            Sex::Female => (rng.pick(&MIDDLE_F), rng.pick(&GIVEN_F)),
        };
        let full_name = format!("{} {middle} {given}", rng.pick(&FAMILY));
        let relation = if i % 4 == 0 {
            household = format!("HH{:09}", i);
            "head"
        } else {
            ["spouse", "child", "parent"][rng.below(3) as usize]
        };
        let residence = format!("Số {} {}, {name}", 1 + rng.below(300), rng.pick(&STREETS));
        let phone = format!("09{:08}", rng.below(100_000_000));
        let row = [
            id.as_str().to_string(),
            full_name,
            format!("{year:04}-{month:02}-{day:02}"),
            sex.as_str().to_string(),
            "VN".into(),
            code.to_string(),
            residence,
            household.clone(),
            relation.to_string(),
            phone,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        out(&row
            .iter()
            .map(|f| csv_field(f))
            .collect::<Vec<_>>()
            .join(","));
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::register::{split_csv_line, validate_row};
    use super::*;

    #[test]
    fn generated_rows_validate_and_are_unique() {
        let mut lines = Vec::new();
        generate(300, 42, |l| lines.push(l.to_string()));
        let header = split_csv_line(&lines[0]);
        let mut ids = std::collections::HashSet::new();
        for (i, l) in lines.iter().enumerate().skip(1) {
            let cells = split_csv_line(l);
            let get = |n: &str| {
                header
                    .iter()
                    .position(|h| h == n)
                    .map(|p| cells[p].clone())
                    .unwrap_or_default()
            };
            let (p, _) = validate_row(i + 1, get, 0).unwrap_or_else(|e| panic!("line {i}: {e:?}"));
            assert!(ids.insert(p.id_number));
        }
        let mut again = Vec::new();
        generate(300, 42, |l| again.push(l.to_string()));
        assert_eq!(lines, again, "same seed, same register");
    }
}
