//! Amounts in words, as a transfer is shown for approval ("hai mươi triệu đồng"): a person
//! checks the words against the digits, so a slipped zero is seen.

const VI_DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];
const VI_SCALES: [&str; 5] = ["", "nghìn", "triệu", "tỷ", "nghìn tỷ"];
const EN_ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const EN_TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const EN_SCALES: [&str; 5] = ["", "thousand", "million", "billion", "trillion"];

/// Groups of three digits, least significant first.
fn groups(mut n: u64) -> Vec<u64> {
    let mut out = vec![n % 1000];
    n /= 1000;
    while n > 0 {
        out.push(n % 1000);
        n /= 1000;
    }
    out
}

/// One group in Vietnamese; `full`: not the leading group, so its hundreds are read even
/// when zero ("không trăm").
fn vi_group(g: u64, full: bool, out: &mut Vec<&'static str>) {
    let (a, b, c) = (
        (g / 100) as usize,
        (g / 10 % 10) as usize,
        (g % 10) as usize,
    );
    if a > 0 || full {
        out.extend([VI_DIGITS[a], "trăm"]);
    }
    match b {
        0 if c > 0 && (a > 0 || full) => out.push("linh"),
        0 => {}
        1 => out.push("mười"),
        _ => out.extend([VI_DIGITS[b], "mươi"]),
    }
    match c {
        0 => {}
        1 if b >= 2 => out.push("mốt"),
        5 if b >= 1 => out.push("lăm"),
        _ => out.push(VI_DIGITS[c]),
    }
}

/// `n` đồng in Vietnamese words.
pub fn vi(n: u64) -> String {
    if n == 0 {
        return "không đồng".into();
    }
    let gs = groups(n);
    let mut words = Vec::new();
    for (i, g) in gs.iter().enumerate().rev() {
        if *g == 0 {
            continue;
        }
        vi_group(*g, i + 1 < gs.len(), &mut words);
        if !VI_SCALES[i].is_empty() {
            words.push(VI_SCALES[i]);
        }
    }
    words.push("đồng");
    words.join(" ")
}

fn en_group(g: u64, out: &mut Vec<String>) {
    let (a, rest) = (g / 100, (g % 100) as usize);
    if a > 0 {
        out.push(format!("{} hundred", EN_ONES[a as usize]));
    }
    match rest {
        0 => {}
        1..=19 => out.push(EN_ONES[rest].into()),
        _ if rest.is_multiple_of(10) => out.push(EN_TENS[rest / 10].into()),
        _ => out.push(format!("{}-{}", EN_TENS[rest / 10], EN_ONES[rest % 10])),
    }
}

/// `n` đồng in English words.
pub fn en(n: u64) -> String {
    if n == 0 {
        return "zero dong".into();
    }
    let gs = groups(n);
    let mut words = Vec::new();
    for (i, g) in gs.iter().enumerate().rev() {
        if *g == 0 {
            continue;
        }
        en_group(*g, &mut words);
        if !EN_SCALES[i].is_empty() {
            words.push(EN_SCALES[i].into());
        }
    }
    words.push("dong".into());
    words.join(" ")
}

/// Digits grouped by dots, as amounts are written in Vietnam ("20.000.000").
pub fn digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}
