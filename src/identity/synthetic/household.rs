//! One household: who lives in it, how old, how related to the head.

use super::{Gen, Person, provinces};
use crate::identity::id_number::{Sex, make};

const FAMILY: [&str; 16] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
const MIDDLE_M: [&str; 8] = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Công", "Thành", "Gia"];
const MIDDLE_F: [&str; 8] = ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Bích", "Diệu"];
const GIVEN_M: [&str; 24] = [
    "An", "Bảo", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Tuấn", "Hải", "Hiếu", "Hoàng", "Huy",
    "Khoa", "Lâm", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Trung", "Vinh",
];
const GIVEN_F: [&str; 24] = [
    "Anh", "Bình", "Chi", "Hà", "Hương", "Lan", "Mai", "Trang", "Dung", "Giang", "Hạnh", "Hoa",
    "Huyền", "Linh", "Loan", "Ly", "Nga", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Thủy",
    "Yến",
];
const STREETS: [&str; 10] = [
    "Trần Hưng Đạo",
    "Lê Lợi",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Lê Duẩn",
    "Hùng Vương",
    "Nguyễn Trãi",
    "Quang Trung",
];

/// A household at one address, head first.
pub(super) fn build(g: &mut Gen) -> Vec<Person> {
    g.households += 1;
    let household = format!("HH{:09}", g.households);
    let province = g.provinces.pick(&mut g.rng);
    let residence = address(g, province);
    let ty = g.today.0;
    let head_year = ty - 20 - g.rng.below(66) as u16;
    let head_male = g.rng.chance(70);
    let family = g.rng.pick(&FAMILY);
    let at = |p: &mut Person, relation| {
        p.relation = relation;
        p.household.clone_from(&household);
        p.residence.clone_from(&residence);
    };
    let mut head = person(g, province, head_year, head_male, family);
    at(&mut head, "head");
    let mut out = vec![head];
    if g.rng.chance(75) {
        let year = (head_year + g.rng.below(11) as u16)
            .saturating_sub(5)
            .min(ty - 18);
        let spouse_family = g.rng.pick(&FAMILY);
        let mut s = person(g, province, year, !head_male, spouse_family);
        at(&mut s, "spouse");
        out.push(s);
    }
    for _ in 0..g.rng.below(4) {
        let year = head_year + 20 + g.rng.below(21) as u16;
        if year >= ty {
            continue;
        }
        let male = g.rng.chance(50);
        let mut c = person(g, province, year, male, family);
        at(&mut c, "child");
        out.push(c);
    }
    if ty - head_year <= 55 && g.rng.chance(20) {
        for male in [true, false].into_iter().take(1 + g.rng.below(2) as usize) {
            let year = head_year - 20 - g.rng.below(16) as u16;
            let parent_family = if male { family } else { g.rng.pick(&FAMILY) };
            let mut p = person(g, province, year, male, parent_family);
            at(&mut p, "parent");
            out.push(p);
        }
    }
    out
}

pub(super) fn address(g: &mut Gen, province: &str) -> String {
    let street = g.rng.pick(&STREETS);
    let no = 1 + g.rng.below(500);
    format!("Số {no} {street}, {}", provinces::name(province))
}

/// A person born in `year`, mostly registered where they live; with what their age brings:
/// a phone (18+), a CMND (born by 2001), a card expiring at the next of 25/40/60 (14+).
pub(super) fn person(
    g: &mut Gen,
    lives_in: &'static str,
    year: u16,
    male: bool,
    family: &'static str,
) -> Person {
    let province = if g.rng.chance(85) {
        lives_in
    } else {
        g.provinces.pick(&mut g.rng)
    };
    let sex = if male { Sex::Male } else { Sex::Female };
    let id = loop {
        let serial = g.rng.below(1_000_000) as u32;
        if let Ok(id) = make(province, year, sex, serial)
            && g.used.insert(id.as_str().parse().unwrap_or(u64::MAX))
        {
            break id.as_str().to_string();
        }
    };
    let (middle, given) = if male {
        (g.rng.pick(&MIDDLE_M), g.rng.pick(&GIVEN_M))
    } else {
        (g.rng.pick(&MIDDLE_F), g.rng.pick(&GIVEN_F))
    };
    let (month, day) = (1 + g.rng.below(12) as u8, 1 + g.rng.below(28) as u8);
    let age = g.today.0 - year;
    let card_expires_on = (age >= 14)
        .then(|| [25u16, 40, 60].into_iter().find(|m| year + m > g.today.0))
        .flatten()
        .map(|m| format!("{:04}-{month:02}-{day:02}", year + m));
    Person {
        id,
        full_name: format!("{family} {middle} {given}"),
        family,
        year,
        month,
        day,
        male,
        province,
        residence: String::new(),
        household: String::new(),
        relation: "other",
        phone: (age >= 18).then(|| g.phone()),
        cmnd: (year <= 2001).then(|| g.cmnd()),
        card_expires_on,
        deceased_on: None,
    }
}
