//! What a household's members add up to, gathered during the register scan (`scan`): enough
//! to tell whether a household may break a rule of `households`, 24 bytes each.

use super::GENERATION_YEARS;
use super::scan::fnv;
use crate::store::register::ScanRow;

/// What a household's members add up to: enough to tell whether any rule of
/// `households::household` can be broken (a superset: the judging decides).
/// 24 bytes: a city has hundreds of thousands of households.
#[derive(Debug)]
pub(super) struct Household {
    /// The first member's residence hash (0: none seen yet).
    residence: u64,
    head_birth: u32,
    max_spouse_birth: u32,
    /// `u16::MAX`: no child.
    min_child_year: u16,
    /// 0: no parent.
    max_parent_year: u16,
    /// Saturating: two means several.
    heads: u8,
    head_dead: bool,
    residences_differ: bool,
    odd_date: bool,
}

impl Default for Household {
    fn default() -> Self {
        Household {
            residence: 0,
            head_birth: 0,
            max_spouse_birth: 0,
            min_child_year: u16::MAX,
            max_parent_year: 0,
            heads: 0,
            head_dead: false,
            residences_differ: false,
            odd_date: false,
        }
    }
}

/// Bounds the household aggregate is compared with, as `YYYYMMDD`.
pub(super) struct Bounds {
    pub head_born_after: u32,
    pub spouse_born_after: u32,
}

impl Household {
    pub fn add(&mut self, r: &ScanRow<'_>, birth: Option<u32>) {
        let birth = birth.unwrap_or_else(|| {
            self.odd_date = true;
            0
        });
        let year = u16::try_from(birth / 10_000).unwrap_or(0);
        match r.household_relation {
            Some("head") => {
                self.heads = self.heads.saturating_add(1);
                self.head_birth = birth;
                self.head_dead |= r.deceased;
            }
            Some("spouse") => self.max_spouse_birth = self.max_spouse_birth.max(birth),
            Some("child") => self.min_child_year = self.min_child_year.min(year),
            Some("parent") => self.max_parent_year = self.max_parent_year.max(year.max(1)),
            _ => {}
        }
        if let Some(res) = r.residence.map(|t| fnv(t).max(1)) {
            match self.residence {
                0 => self.residence = res,
                first => self.residences_differ |= first != res,
            }
        }
    }

    pub fn suspect(&self, b: &Bounds) -> bool {
        let head_year = i64::from(self.head_birth / 10_000);
        let years = GENERATION_YEARS;
        self.heads != 1
            || self.odd_date
            || self.head_dead
            || self.residences_differ
            || self.head_birth > b.head_born_after
            || self.max_spouse_birth > b.spouse_born_after
            || (self.min_child_year != u16::MAX
                && i64::from(self.min_child_year) < head_year + years)
            || (self.max_parent_year != 0 && i64::from(self.max_parent_year) > head_year - years)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(rel: &'static str, birth: u32, residence: &'static str) -> (ScanRow<'static>, u32) {
        let row = ScanRow {
            household_relation: Some(rel),
            residence: Some(residence),
            ..Default::default()
        };
        (row, birth)
    }

    fn suspect(members: &[(ScanRow<'static>, u32)]) -> bool {
        let mut h = Household::default();
        for (r, birth) in members {
            h.add(r, Some(*birth));
        }
        let b = Bounds {
            head_born_after: 20_111_130,
            spouse_born_after: 20_101_130,
        };
        h.suspect(&b)
    }

    #[test]
    fn a_household_is_suspect_for_each_rule_it_may_break() {
        let head = member("head", 19_700_101, "A");
        let spouse = member("spouse", 19_720_101, "A");
        let child = member("child", 20_000_101, "A");
        assert!(!suspect(&[head, spouse, child]), "a plain family");
        assert!(suspect(&[spouse, child]), "no head");
        assert!(suspect(&[head, head, child]), "several heads");
        assert!(
            suspect(&[member("head", 20_150_101, "A"), child]),
            "head under 15"
        );
        assert!(
            suspect(&[head, member("child", 19_750_101, "A")]),
            "child too old"
        );
        assert!(
            suspect(&[head, member("parent", 19_650_101, "A")]),
            "parent too young"
        );
        assert!(
            suspect(&[head, member("spouse", 20_120_101, "A")]),
            "spouse too young"
        );
        assert!(
            suspect(&[member("head", 19_700_101, "B"), child]),
            "head elsewhere"
        );
        let mut dead = head;
        dead.0.deceased = true;
        assert!(suspect(&[dead, child]), "head deceased");
        let mut h = Household::default();
        h.add(&head.0, None);
        let b = Bounds {
            head_born_after: 20_111_130,
            spouse_born_after: 20_101_130,
        };
        assert!(h.suspect(&b), "a birth date that is not one");
    }
}
