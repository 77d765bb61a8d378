//! A population-register file: the CSV reader and every row rule, on whatever a file holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for row in eidp::identity::register::rows(text, 1_700_000_000) {
        if let Ok((_, (person, _))) = row {
            assert!(eidp::identity::IdNumber::parse(&person.id_number).is_ok());
        }
    }
});
