//! The checks by name, and which of the four qualities each one's findings count against.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    DuplicatePerson,
    CmndShared,
    CmndUnlinked,
    HouseholdNoHead,
    HouseholdSeveralHeads,
    HouseholdHeadUnder15,
    HouseholdHeadNotMember,
    HouseholdRelationAge,
    DeceasedActiveAccount,
    CardExpired,
    PhoneShared,
}

pub const CHECKS: [Check; 11] = [
    Check::DuplicatePerson,
    Check::CmndShared,
    Check::CmndUnlinked,
    Check::HouseholdNoHead,
    Check::HouseholdSeveralHeads,
    Check::HouseholdHeadUnder15,
    Check::HouseholdHeadNotMember,
    Check::HouseholdRelationAge,
    Check::DeceasedActiveAccount,
    Check::CardExpired,
    Check::PhoneShared,
];

/// The four qualities of the seed's city: đúng, đủ, sạch, sống.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    Correct,
    Complete,
    Clean,
    Live,
}

impl Check {
    /// The name in the JSON report.
    pub fn name(self) -> &'static str {
        match self {
            Check::DuplicatePerson => "duplicate_person",
            Check::CmndShared => "cmnd_shared",
            Check::CmndUnlinked => "cmnd_unlinked",
            Check::HouseholdNoHead => "household_no_head",
            Check::HouseholdSeveralHeads => "household_several_heads",
            Check::HouseholdHeadUnder15 => "household_head_under_15",
            Check::HouseholdHeadNotMember => "household_head_not_member",
            Check::HouseholdRelationAge => "household_relation_age",
            Check::DeceasedActiveAccount => "deceased_active_account",
            Check::CardExpired => "card_expired",
            Check::PhoneShared => "phone_shared",
        }
    }

    /// In words, for the terminal.
    pub fn describe(self) -> &'static str {
        match self {
            Check::DuplicatePerson => "same person under two ID numbers",
            Check::CmndShared => "old CMND number pointing at several persons",
            Check::CmndUnlinked => "CMND never linked to the 12-digit number",
            Check::HouseholdNoHead => "households without a head",
            Check::HouseholdSeveralHeads => "households with several heads",
            Check::HouseholdHeadUnder15 => "household heads under 15",
            Check::HouseholdHeadNotMember => "heads who are not members of their household",
            Check::HouseholdRelationAge => "relations to the head that contradict ages",
            Check::DeceasedActiveAccount => "deceased with an open account (locked)",
            Check::CardExpired => "ID cards past expiry",
            Check::PhoneShared => "phones shared by many unrelated adults",
        }
    }

    pub fn quality(self) -> Quality {
        match self {
            Check::DuplicatePerson | Check::CmndShared | Check::PhoneShared => Quality::Clean,
            Check::CmndUnlinked | Check::HouseholdNoHead => Quality::Complete,
            Check::HouseholdSeveralHeads
            | Check::HouseholdHeadUnder15
            | Check::HouseholdHeadNotMember
            | Check::HouseholdRelationAge => Quality::Correct,
            Check::DeceasedActiveAccount | Check::CardExpired => Quality::Live,
        }
    }
}
