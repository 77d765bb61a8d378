//! A synthetic population register for demos, tests and benchmarks — nothing in it is real.
//! Households live at one address: a head of 20–85, often a spouse, children born when the
//! parents were 20–40, sometimes the head's parents; provinces are drawn by population
//! ([`provinces::WEIGHTS`]). Adults have their own phone, people old enough a CMND
//! (born by 2001), card holders a card expiring at the next of the 25/40/60 birthdays. With
//! `defects` = r, each household has probability r of each defect class the cleansing report
//! looks for ([`defects`]). Seeded: the same plan gives the same register.

mod defects;
mod household;
mod provinces;

use std::collections::HashSet;

use super::register::{COLUMNS, csv_field};

/// What to generate.
pub struct Plan {
    pub count: usize,
    pub seed: u64,
    /// The share of households given each defect class (0: a clean register).
    pub defects: f64,
    /// `YYYY-MM-DD`: ages and card expiry are as of this day.
    pub today: String,
}

/// xorshift64*: tiny, deterministic, good enough for test data (never for secrets).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One synthetic row.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    id: String,
    full_name: String,
    family: &'static str,
    year: u16,
    month: u8,
    day: u8,
    male: bool,
    province: &'static str,
    residence: String,
    household: String,
    relation: &'static str,
    phone: Option<String>,
    cmnd: Option<String>,
    card_expires_on: Option<String>,
    deceased_on: Option<String>,
}

impl Person {
    fn birth_date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    fn row(&self) -> String {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let sex = if self.male { "male" } else { "female" };
        let cells = [
            self.id.clone(),
            self.full_name.clone(),
            self.birth_date(),
            sex.into(),
            "VN".into(),
            self.province.into(),
            self.residence.clone(),
            self.household.clone(),
            self.relation.into(),
            opt(&self.phone),
            String::new(),
            opt(&self.cmnd),
            String::new(),
            opt(&self.card_expires_on),
            opt(&self.deceased_on),
        ];
        cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The generator's running state: what is already used, and counters for unique numbers.
pub(crate) struct Gen {
    rng: Rng,
    provinces: provinces::Provinces,
    used: HashSet<u64>,
    phones: u64,
    cmnds: u64,
    households: u64,
    /// Today's year, month, day.
    today: (u16, u8, u8),
    /// The previous household head's CMND (a defect copies it).
    last_cmnd: Option<String>,
    /// The phone an "agent" registers for several heads, and how many have it.
    agent: (u64, u64),
}

/// Write the register as CSV (header first) to `out`, one line at a time.
pub fn generate(plan: &Plan, mut out: impl FnMut(&str)) {
    let mut g = Gen::new(plan);
    out(&COLUMNS.join(","));
    let mut written = 0;
    while written < plan.count {
        let mut hh = household::build(&mut g);
        defects::maybe(&mut g, &mut hh, plan.defects);
        if let Some(c) = hh.first().and_then(|h| h.cmnd.clone()) {
            g.last_cmnd = Some(c);
        }
        for p in hh.iter().take(plan.count - written) {
            out(&p.row());
            written += 1;
        }
    }
}

impl Gen {
    fn new(plan: &Plan) -> Gen {
        let part = |r: std::ops::Range<usize>, d: u16| {
            plan.today
                .get(r)
                .and_then(|v| v.parse::<u16>().ok())
                .unwrap_or(d)
        };
        Gen {
            rng: Rng(plan.seed | 1),
            provinces: provinces::Provinces::new(),
            used: HashSet::new(),
            phones: 0,
            cmnds: 0,
            households: 0,
            today: (part(0..4, 2026), part(5..7, 1) as u8, part(8..10, 1) as u8),
            last_cmnd: None,
            agent: (0, 0),
        }
    }

    /// A mobile number no one else has: a bijection of a counter onto 8 digits.
    fn phone(&mut self) -> String {
        self.phones += 1;
        format!("09{:08}", (self.phones * 19_999_999) % 100_000_000)
    }

    /// An old 9-digit CMND no one else has.
    fn cmnd(&mut self) -> String {
        self.cmnds += 1;
        format!("{:09}", (self.cmnds * 387_420_489) % 1_000_000_000)
    }

    /// The same "agent" number for a few heads in a row, then the next (another prefix, so
    /// never a person's own).
    fn agent_phone(&mut self) -> String {
        if self.agent.1 >= defects::AGENT_GROUP {
            self.agent = (self.agent.0 + 1, 0);
        }
        self.agent.1 += 1;
        format!("08{:08}", (self.agent.0 * 19_999_999) % 100_000_000)
    }
}

#[cfg(test)]
mod tests;
