//! Formula injection (issue 17, item 8): an applicant whose name is a spreadsheet formula goes
//! through intake, an SLA breach and a shipment, and out through every supervision report as
//! csv — where no cell may start a formula — and as xlsx, where it is a text cell, not a formula.

use crate::both;
use crate::helpers::*;
use backoffice::domain::status::Action;
use backoffice::exchange::couriers::Courier;
use calamine::{Data, Reader, Xlsx};
use serde_json::json;

const NAME: &str = "=HYPERLINK(\"http://x\",\"y\")";
const RECIPIENT: &str = "@SUM(1+1)*cmd|' /C calc'!A0";
const PERIOD: &str = "from=2026-11-01&to=2026-12-31";

/// What a spreadsheet program would run: a formula start that is not a plain number.
fn starts_a_formula(cell: &str) -> bool {
    let plain = cell.strip_prefix('-').is_some_and(|n| {
        !n.is_empty()
            && n.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    matches!(
        cell.bytes().next(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) && !plain
}

async fn applicant_formulas_never_run_from_a_report(b: Backend) {
    let app = TestApp::spawn_with(b, crate::fulfilment::with_sender).await;
    let mut j = example_json();
    j["applicant"]["name"] = json!(NAME);
    j["mailing_address"]["recipient"] = json!(RECIPIENT);
    let r = app.submit("csv-1", Submission::with_json(j).form()).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Overdue (due 2026-11-30 18:00): a breach on the register.
    let late = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00+08:00")
        .unwrap()
        .timestamp_millis();
    assert_eq!(
        backoffice::jobs::sla::sweep(&app.storage, "http://bo.test", late)
            .await
            .unwrap(),
        1
    );
    // Then accepted, produced and put in a courier batch: a parcel on the shipment register.
    app.verify_payment(&id).await;
    app.staff_act(&id, Action::Claim, &[]).await;
    app.staff_act(&id, Action::Accept, &[]).await;
    let now = app.clock.now().timestamp_millis();
    backoffice::desks::fulfilment::record_production(
        &app.storage,
        &[backoffice::desks::fulfilment::Production {
            application_id: aid(&id),
            certificate_serial: "0150512140479059B1".into(),
            medium_no: "UK1".into(),
        }],
        "staff:x",
        now,
    )
    .await
    .unwrap();
    backoffice::desks::fulfilment::create_batch(
        &app.storage,
        &app.state.settings.courier,
        Courier::Sf,
        None,
        "staff:x",
        now,
    )
    .await
    .unwrap()
    .unwrap();

    let boss = app.signed_in_staff("boss", "supervisor").await;
    let mut carried = Vec::new();
    for (name, _) in backoffice::exchange::reports::SUPERVISION {
        let r = boss.get(&format!("/reports/{name}/csv?{PERIOD}")).await;
        assert_eq!(r.status(), 200, "{name}");
        let bytes = r.bytes().await.unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        for (i, rec) in rdr.records().enumerate() {
            for cell in rec.unwrap().iter() {
                assert!(
                    !starts_a_formula(cell),
                    "{name} row {}: {cell:?} starts a formula",
                    i + 1
                );
                if cell.contains("HYPERLINK") {
                    assert_eq!(cell, format!("'{NAME}"), "{name}");
                    carried.push(*name);
                }
            }
        }
    }
    carried.dedup();
    assert_eq!(carried, ["sla-breaches", "shipment-register"]);

    // The xlsx writers write the name as a text cell: no formula in the workbook.
    for name in carried {
        let r = boss.get(&format!("/reports/{name}/xlsx?{PERIOD}")).await;
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.unwrap();
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let sheet = wb.sheet_names()[0].clone();
        let cells = wb.worksheet_range(&sheet).unwrap();
        assert!(
            cells
                .used_cells()
                .any(|(_, _, c)| *c == Data::String(NAME.to_owned())),
            "{name}: the name is a text cell"
        );
        let formulas = wb.worksheet_formula(&sheet).unwrap();
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "{name}: no formula"
        );
    }
}

both!(applicant_formulas_never_run_from_a_report);
