use super::*;

fn row<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> String + 'a {
    move |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
    }
}

#[test]
fn csv_quotes() {
    assert_eq!(
        split_csv_line(r#"a,"b, c","d ""e""",f"#),
        vec!["a", "b, c", "d \"e\"", "f"]
    );
    assert_eq!(csv_field("Số 1, Hà Nội"), "\"Số 1, Hà Nội\"");
}

#[test]
fn valid_row_with_aliases() {
    let r = row(&[
        ("id_number", "001090000001"),
        ("full_name", "Nguyễn Văn An"),
        ("birth_date", "1990-05-15"),
        ("sex", "male"),
        ("cmnd", "012345678"),
        ("bhyt", "GD4010123456789"),
        ("household_relation", "head"),
    ]);
    let (p, aliases) = validate_row(2, r, 0).unwrap();
    assert_eq!(p.birth_place.as_deref(), Some("001"));
    assert_eq!(p.nationality, "VN");
    assert_eq!(aliases.len(), 2);
}

#[test]
fn every_broken_field_is_named() {
    let r = row(&[
        ("id_number", "001090000001"),
        ("full_name", ""),
        ("birth_date", "1991-05-15"),
        ("sex", "male"),
        ("phone", "12345"),
        ("bhyt", "gd4010123456789"),
        ("household_relation", "cousin"),
        ("birth_place", "079"),
    ]);
    let errs = validate_row(7, r, 0).unwrap_err();
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "full_name",
        "id_number",
        "phone",
        "bhyt",
        "household_relation",
        "birth_place",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(errs.iter().all(|e| e.line == 7));
}

#[test]
fn dates_from_unix_time() {
    assert_eq!(date_of(0), "1970-01-01");
    assert_eq!(date_of(951_782_400), "2000-02-29");
    assert_eq!(date_of(1_795_046_400), "2026-11-19");
}
