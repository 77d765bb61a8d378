use super::*;
use IdNumberError as E;

fn id(s: &str) -> IdNumber {
    IdNumber::parse(s).unwrap()
}

fn id_err(s: &str) -> IdNumberError {
    IdNumber::parse(s).unwrap_err()
}

#[test]
fn province_table_has_the_63_codes() {
    assert_eq!(provinces().count(), 63);
    assert_eq!(province_name_for("079"), Some("Hồ Chí Minh"));
    assert_eq!(province_name_for("003"), None);
}

#[test]
fn valid_numbers_decode() {
    let cases = [
        ("001085123456", "Hà Nội", 1985, Sex::Male),
        ("079305000123", "Hồ Chí Minh", 2005, Sex::Female),
        ("048192654321", "Đà Nẵng", 1992, Sex::Female),
        ("096210999999", "Cà Mau", 2010, Sex::Male),
        ("001401000001", "Hà Nội", 2101, Sex::Male),
        ("038999000000", "Thanh Hóa", 2399, Sex::Female),
    ];
    for (s, name, year, sex) in cases {
        let n = id(s);
        assert_eq!((n.as_str(), n.to_string()), (s, s.to_owned()));
        assert_eq!((n.province_code(), n.province_name()), (&s[..3], name));
        assert_eq!(
            (n.birth_year(), n.birth_century_start()),
            (year, year / 100 * 100)
        );
        assert_eq!(n.sex(), sex);
        assert_eq!(n.check_consistency(year, sex), Ok(()));
        assert_eq!(s.parse::<IdNumber>().unwrap(), n);
    }
    assert_eq!(id("  001085123456\n").as_str(), "001085123456");
}

#[test]
fn invalid_numbers_are_classified() {
    let cases = [
        ("00108512345", "length"),
        ("0010851234567", "length"),
        ("   ", "length"),
        ("00108512345A", "non_digit"),
        ("OO1085123456", "non_digit"),
        ("001 085 123 456", "non_digit"),
        ("001-085-123456", "non_digit"),
        ("00108512345１", "non_digit"), // full-width digit: no normalisation
        ("003085123456", "unknown_province"),
        ("000085123456", "unknown_province"),
        ("999085123456", "unknown_province"),
    ];
    for (s, code) in cases {
        assert_eq!(id_err(s).code(), code, "{s}");
    }
    assert_eq!(
        id_err("001 085 123 456"),
        E::NonDigit {
            position: 4,
            found: ' '
        }
    );
    assert_eq!(
        id_err("00108512345").to_string(),
        "id_number must be exactly 12 digits (found 11)"
    );
    assert_eq!(
        id_err("003085123456").to_string(),
        "id_number: province code 003 is not a birth-registration province code \
         (Circular 07/2016)"
    );
}

#[test]
fn consistency_with_birth_year_and_sex() {
    let (hn, hcm, future) = (id("001085123456"), id("079305000123"), id("001401000001"));
    let cases = [
        (&hn, 1985, Sex::Female, "sex_mismatch"),
        (&hcm, 2005, Sex::Male, "sex_mismatch"),
        (&hn, 1986, Sex::Male, "birth_year_mismatch"),
        (&hcm, 2015, Sex::Female, "birth_year_mismatch"),
        (&hn, 2085, Sex::Male, "century_mismatch"),
        (&hn, 1885, Sex::Male, "century_mismatch"),
        (&future, 2001, Sex::Male, "century_mismatch"),
    ];
    for (n, year, sex, code) in cases {
        assert_eq!(
            n.check_consistency(year, sex).unwrap_err().code(),
            code,
            "{n} {year}"
        );
    }
    let msg = |n: &IdNumber, y, s| n.check_consistency(y, s).unwrap_err().to_string();
    assert!(msg(&hn, 1985, Sex::Female).ends_with("digit 0 denotes male, but sex is female"));
    assert!(msg(&hcm, 2015, Sex::Female).ends_with("digits 05 do not match birth year 2015"));
    let err = id("001205123456")
        .check_consistency(1905, Sex::Male)
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("digit 2 denotes birth in 2000-2099, but birth year is 1905")
    );
}

#[test]
fn debug_is_masked() {
    assert_eq!(
        format!("{:?}", id("001085123456")),
        "IdNumber(001*******56)"
    );
    let c = HealthInsuranceCode::parse("GD4790123456789").unwrap();
    assert_eq!(format!("{c:?}"), "HealthInsuranceCode(GD479********89)");
}

#[test]
fn make_round_trips() {
    for (code, _) in provinces() {
        for year in [1900, 1985, 1999, 2000, 2024, 2101, 2250, 2399] {
            for sex in [Sex::Male, Sex::Female] {
                let n = make(code, year, sex, 42).unwrap();
                assert_eq!(IdNumber::parse(n.as_str()).unwrap(), n);
                assert_eq!(
                    (n.province_code(), n.birth_year(), n.sex()),
                    (code, year, sex)
                );
                assert_eq!(n.check_consistency(year, sex), Ok(()));
                assert!(n.as_str().ends_with("000042"));
            }
        }
    }
    assert_eq!(
        make("079", 2005, Sex::Female, 123).unwrap().as_str(),
        "079305000123"
    );
    let bad = [
        (make("003", 1990, Sex::Male, 1), "unknown_province"),
        (make("1", 1990, Sex::Male, 1), "unknown_province"),
        (make("001", 1899, Sex::Male, 1), "birth_year_out_of_range"),
        (make("001", 2400, Sex::Male, 1), "birth_year_out_of_range"),
        (
            make("001", 1990, Sex::Male, 1_000_000),
            "serial_out_of_range",
        ),
    ];
    for (result, code) in bad {
        assert_eq!(result.unwrap_err().code(), code);
    }
}

#[test]
fn sex_strings() {
    assert_eq!(
        (Sex::Male.as_str(), Sex::Female.as_str()),
        ("male", "female")
    );
    assert_eq!(
        (Sex::parse("male"), Sex::parse("female")),
        (Some(Sex::Male), Some(Sex::Female))
    );
    assert_eq!((Sex::parse("Male"), Sex::parse("m")), (None, None));
}

#[test]
fn legacy_cmnd() {
    assert_eq!(parse_legacy_cmnd(" 012345678 ").unwrap(), "012345678");
    assert_eq!(parse_legacy_cmnd("001085123456").unwrap(), "001085123456");
    for (s, code) in [
        ("12345678", "legacy_cmnd_length"),
        ("0123456789", "legacy_cmnd_length"),
    ] {
        assert_eq!(parse_legacy_cmnd(s).unwrap_err().code(), code);
    }
    let err = parse_legacy_cmnd("01234567X").unwrap_err();
    assert_eq!(
        err,
        E::LegacyCmndNonDigit {
            position: 9,
            found: 'X'
        }
    );
    assert!(
        err.to_string()
            .starts_with("legacy_cmnd must contain only digits")
    );
}

#[test]
fn health_insurance_code() {
    let c = HealthInsuranceCode::parse(" GD4790123456789 ").unwrap();
    assert_eq!(
        (c.as_str(), c.group(), c.province()),
        ("GD4790123456789", "GD", "79")
    );
    assert_eq!(
        (c.benefit_level(), c.social_insurance_code()),
        (4, "0123456789")
    );
    assert_eq!(
        "HT5010000000001"
            .parse::<HealthInsuranceCode>()
            .unwrap()
            .benefit_level(),
        5
    );
    let cases = [
        ("gd4790123456789", "health_insurance_group"),
        ("G14790123456789", "health_insurance_group"),
        ("ĐD4790123456789", "health_insurance_group"),
        ("GD0790123456789", "health_insurance_benefit_level"),
        ("GD6790123456789", "health_insurance_benefit_level"),
        ("GD479012345678", "health_insurance_length"),
        ("GD47901234567890", "health_insurance_length"),
        ("GD47901234567A9", "health_insurance_non_digit"),
    ];
    for (s, code) in cases {
        let err = HealthInsuranceCode::parse(s).unwrap_err();
        assert_eq!(err.code(), code, "{s}");
        assert!(
            err.to_string().starts_with("health_insurance_code"),
            "{err}"
        );
    }
}

#[test]
fn id_number_messages_name_the_field() {
    let errs = [
        E::NonDigit {
            position: 1,
            found: 'x',
        },
        E::CenturyMismatch {
            expected_year: 1990,
            digit: 2,
        },
        E::BirthYearMismatch {
            expected_year: 1990,
            digits: 91,
        },
        E::SexMismatch {
            expected: Sex::Male,
            digit: 1,
        },
        E::BirthYearOutOfRange { year: 1800 },
        E::SerialOutOfRange { found: 1_000_000 },
    ];
    for e in errs {
        assert!(e.to_string().starts_with("id_number"), "{e}");
    }
    let e: Box<dyn std::error::Error> = Box::new(E::Length { found: 3 });
    assert!(e.to_string().contains("found 3"));
}

mod properties {
    use super::super::*;
    use proptest::prelude::*;

    proptest! {
        // Untrusted input: parsing never panics, and whatever parses is 12 ASCII digits.
        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            if let Ok(id) = IdNumber::parse(&s) {
                prop_assert_eq!(id.as_str().len(), 12);
                prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_digit()));
            }
        }

        #[test]
        fn digit_strings_are_judged_by_province(s in "[0-9]{12}") {
            let known = province_name_for(&s[..3]).is_some();
            prop_assert_eq!(IdNumber::parse(&s).is_ok(), known);
        }

        #[test]
        fn make_then_parse_round_trips(p in 0usize..63, year in 1900u16..2400, female: bool, r in 0u32..1_000_000) {
            let (code, _) = provinces().nth(p).unwrap();
            let sex = if female { Sex::Female } else { Sex::Male };
            let id = make(code, year, sex, r).unwrap();
            let back = IdNumber::parse(id.as_str()).unwrap();
            prop_assert_eq!(back.birth_year(), year);
            prop_assert_eq!(back.sex(), sex);
            prop_assert!(back.check_consistency(year, sex).is_ok());
        }

        #[test]
        fn health_insurance_parse_never_panics(s in "\\PC{0,20}") {
            let _ = HealthInsuranceCode::parse(&s);
        }
    }
}
