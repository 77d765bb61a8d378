//! Where synthetic people live and were registered: the 63 birth-registration provinces
//! weighted by population — the 2019 census in thousands, rounded (approximate; only the
//! shape matters: Hồ Chí Minh City and Hà Nội large, the northern highlands small).

use super::Rng;
use crate::identity::id_number::province_name_for;

pub const WEIGHTS: [(&str, u32); 63] = [
    ("001", 8054),
    ("002", 855),
    ("004", 531),
    ("006", 314),
    ("008", 785),
    ("010", 731),
    ("011", 599),
    ("012", 461),
    ("014", 1249),
    ("015", 822),
    ("017", 855),
    ("019", 1287),
    ("020", 782),
    ("022", 1321),
    ("024", 1804),
    ("025", 1464),
    ("026", 1152),
    ("027", 1369),
    ("030", 1893),
    ("031", 2029),
    ("033", 1253),
    ("034", 1861),
    ("035", 853),
    ("036", 1781),
    ("037", 983),
    ("038", 3641),
    ("040", 3328),
    ("042", 1289),
    ("044", 896),
    ("045", 633),
    ("046", 1129),
    ("048", 1135),
    ("049", 1496),
    ("051", 1232),
    ("052", 1487),
    ("054", 873),
    ("056", 1232),
    ("058", 591),
    ("060", 1231),
    ("062", 541),
    ("064", 1514),
    ("066", 1870),
    ("067", 623),
    ("068", 1297),
    ("070", 995),
    ("072", 1170),
    ("074", 2456),
    ("075", 3097),
    ("077", 1149),
    ("079", 8993),
    ("080", 1689),
    ("082", 1765),
    ("083", 1289),
    ("084", 1009),
    ("086", 1023),
    ("087", 1600),
    ("089", 1908),
    ("091", 1724),
    ("092", 1236),
    ("093", 734),
    ("094", 1200),
    ("095", 907),
    ("096", 1194),
];

/// Draws a province code with probability proportional to its population.
pub struct Provinces {
    cumulative: Vec<(u64, &'static str)>,
}

impl Provinces {
    pub fn new() -> Provinces {
        let mut total = 0u64;
        let cumulative = WEIGHTS
            .iter()
            .map(|(code, w)| {
                total += u64::from(*w);
                (total, *code)
            })
            .collect();
        Provinces { cumulative }
    }

    pub fn pick(&self, rng: &mut Rng) -> &'static str {
        let total = self.cumulative.last().map_or(1, |(t, _)| *t);
        let x = rng.below(total);
        let i = self.cumulative.partition_point(|(t, _)| *t <= x);
        self.cumulative.get(i).map_or("001", |(_, c)| *c)
    }
}

pub fn name(code: &str) -> &'static str {
    province_name_for(code).unwrap_or("Hà Nội")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_weighted_code_is_a_province_and_big_ones_come_up_more() {
        assert!(WEIGHTS.iter().all(|(c, _)| province_name_for(c).is_some()));
        let p = Provinces::new();
        let mut rng = Rng(7);
        let draws: Vec<&str> = (0..20_000).map(|_| p.pick(&mut rng)).collect();
        let n = |c: &str| draws.iter().filter(|d| **d == c).count();
        assert!(
            n("079") > 5 * n("006"),
            "HCMC {} vs Bắc Kạn {}",
            n("079"),
            n("006")
        );
    }
}
