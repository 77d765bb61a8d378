//! The defects a synthetic register may carry, one class per household at most: each class
//! with probability `rate` (so up to 11 × rate of households have one). Each is what the
//! cleansing report's check of the same name finds; a duplicate person shares the original's
//! CMND too, so it also shows as a shared CMND. A death is a record's fact — whether an e-ID
//! account exists (and must be locked) is the provider's side, not the file's.

use super::household::{address, person};
use super::{Gen, Person};

/// Heads given the same "agent" phone: above the report's default threshold of 5.
pub const AGENT_GROUP: u64 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    DuplicatePerson,
    CmndShared,
    CmndUnlinked,
    NoHead,
    SeveralHeads,
    HeadUnder15,
    HeadNotMember,
    RelationAge,
    Deceased,
    CardExpired,
    PhoneShared,
}

pub const ALL: [Defect; 11] = [
    Defect::DuplicatePerson,
    Defect::CmndShared,
    Defect::CmndUnlinked,
    Defect::NoHead,
    Defect::SeveralHeads,
    Defect::HeadUnder15,
    Defect::HeadNotMember,
    Defect::RelationAge,
    Defect::Deceased,
    Defect::CardExpired,
    Defect::PhoneShared,
];

/// Give the household one defect, each class with probability `rate`.
pub(super) fn maybe(g: &mut Gen, hh: &mut Vec<Person>, rate: f64) {
    if rate <= 0.0 {
        return;
    }
    let u = g.rng.below(1_000_000) as f64 / 1_000_000.0;
    if let Some(d) = ALL.get((u / rate) as usize) {
        apply(g, hh, *d);
    }
}

pub(super) fn apply(g: &mut Gen, hh: &mut Vec<Person>, d: Defect) {
    let ty = g.today.0;
    let two = hh.len() >= 2;
    match d {
        Defect::DuplicatePerson => {
            let head = hh[0].clone();
            let mut again = person(g, head.province, head.year, head.male, head.family);
            again.full_name.clone_from(&head.full_name);
            (again.month, again.day) = (head.month, head.day);
            again.phone.clone_from(&head.phone);
            again.cmnd.clone_from(&head.cmnd);
            again.card_expires_on.clone_from(&head.card_expires_on);
            again.household.clone_from(&head.household);
            again.residence.clone_from(&head.residence);
            hh.push(again);
        }
        Defect::CmndShared => hh[0].cmnd = g.last_cmnd.clone().or_else(|| Some(g.cmnd())),
        Defect::CmndUnlinked => {
            if let Some(p) = hh.iter_mut().find(|p| p.cmnd.is_some()) {
                p.cmnd = None;
            }
        }
        Defect::NoHead => hh[0].relation = "other",
        Defect::SeveralHeads if two => hh[1].relation = "head",
        Defect::HeadUnder15 => {
            let province = hh[0].province;
            let year = ty - 10 - g.rng.below(5) as u16;
            let male = g.rng.chance(50);
            let mut child = person(g, province, year, male, hh[0].family);
            child.relation = "head";
            child.household.clone_from(&hh[0].household);
            child.residence.clone_from(&hh[0].residence);
            *hh = vec![child];
        }
        Defect::HeadNotMember if two => {
            let elsewhere = loop {
                let a = address(g, hh[0].province);
                if a != hh[1].residence {
                    break a;
                }
            };
            hh[0].residence = elsewhere;
        }
        Defect::RelationAge if two => {
            hh[1].relation = if hh[1].relation == "parent" {
                "child"
            } else {
                "parent"
            };
        }
        Defect::Deceased if two => {
            let last = hh.len() - 1;
            hh[last].deceased_on = Some(format!("{:04}-01-15", ty - 1));
        }
        Defect::CardExpired => {
            let (m, d) = (hh[0].month, hh[0].day);
            hh[0].card_expires_on = Some(format!("{:04}-{m:02}-{d:02}", ty - 1));
        }
        Defect::PhoneShared => hh[0].phone = Some(g.agent_phone()),
        Defect::SeveralHeads | Defect::HeadNotMember | Defect::RelationAge | Defect::Deceased => {}
    }
}
