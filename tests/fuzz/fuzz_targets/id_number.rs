//! Personal ID numbers, old CMND numbers and health-insurance codes as people type them.
#![no_main]

use eidp::identity::id_number::{HealthInsuranceCode, parse_legacy_cmnd};
use eidp::identity::{IdNumber, Sex};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = IdNumber::parse(s) {
        assert_eq!(id.as_str().len(), 12);
        let _ = id.province_name();
        for sex in [Sex::Male, Sex::Female] {
            let _ = id.check_consistency(id.birth_year(), sex);
            let _ = id.check_consistency(1900, sex);
        }
    }
    let _ = parse_legacy_cmnd(s);
    if let Ok(code) = HealthInsuranceCode::parse(s) {
        assert!((1..=5).contains(&code.benefit_level()));
    }
});
