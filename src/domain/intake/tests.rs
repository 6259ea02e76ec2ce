//! Tests of `domain::intake`.

use super::*;

pub fn example() -> Value {
    serde_json::from_str(include_str!("../../../tests/api/fixtures/application.json")).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T10:06:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn the_contract_example_parses_and_round_trips() {
    let a = NewApplication::parse(&example(), Some(now())).unwrap();
    assert_eq!(a.applicant.id.number(), "11010519491231002X");
    assert_eq!(a.payment.amount, Fen::new(20000));
    let again = NewApplication::parse(&a.to_json(), None).unwrap();
    assert_eq!(again, a);
}

fn with(path: &[&str], v: Value) -> Value {
    let mut body = example();
    let mut cur = &mut body;
    for k in &path[..path.len() - 1] {
        cur = cur.get_mut(*k).unwrap();
    }
    cur[path[path.len() - 1]] = v;
    body
}

fn field_of(body: Value) -> String {
    NewApplication::parse(&body, Some(now())).unwrap_err().field
}

#[test]
fn each_bad_field_is_named() {
    assert_eq!(
        field_of(with(
            &["applicant", "id_number"],
            json!("110105194912310021")
        )),
        "applicant.id_number"
    );
    assert_eq!(
        field_of(with(&["applicant", "mobile"], json!("12345"))),
        "applicant.mobile"
    );
    assert_eq!(
        field_of(with(&["mailing_address", "postcode"], json!("5180"))),
        "mailing_address.postcode"
    );
    assert_eq!(
        field_of(with(&["invoice", "tax_id"], json!("91350100M000100Y44"))),
        "invoice.tax_id"
    );
    assert_eq!(
        field_of(with(&["payment", "channel"], json!("paypal"))),
        "payment.channel"
    );
    assert_eq!(
        field_of(with(&["payment", "amount_fen"], json!(200.5))),
        "payment.amount_fen"
    );
    assert_eq!(
        field_of(with(&["liveness", "score"], json!(1.5))),
        "liveness.score"
    );
    assert_eq!(
        field_of(with(
            &["consents", "sensitive_pi_authorization"],
            json!(false)
        )),
        "consents.sensitive_pi_authorization"
    );
    assert_eq!(
        field_of(with(&["submitted_at"], json!("2026-11-25T10:12:00+08:00"))),
        "submitted_at"
    );
    assert_eq!(
        field_of(with(&["submitted_at"], json!("2026-10-25T10:05:00+08:00"))),
        "submitted_at"
    );
    assert_eq!(
        field_of(with(&["submitted_at"], json!("2026-11-25 10:05"))),
        "submitted_at"
    );
    assert_eq!(
        field_of(with(&["applicant", "name"], json!(""))),
        "applicant.name"
    );
    // The first wrong field in document order is the one named.
    let two = with(&["applicant", "mobile"], json!("1"));
    let two = {
        let mut b = two;
        b["payment"]["channel"] = json!("x");
        b
    };
    assert_eq!(field_of(two), "applicant.mobile");
}

#[test]
fn invoice_may_be_null_and_other_offsets_mean_the_same_instant() {
    let a = NewApplication::parse(&with(&["invoice"], Value::Null), Some(now())).unwrap();
    assert!(a.invoice.is_none());
    let b = NewApplication::parse(
        &with(&["submitted_at"], json!("2026-11-25T02:05:00Z")),
        Some(now()),
    )
    .unwrap();
    assert_eq!(
        b.submitted_at,
        NewApplication::parse(&example(), None)
            .unwrap()
            .submitted_at
    );
}
