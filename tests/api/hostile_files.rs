//! Hostile files through every page that takes a sheet (issue 17, item 1): the 5 KB spreadsheet
//! bomb (one cell in A1, one in XFD1048576), a zip bomb member and a zip of too many members,
//! built here as raw zip/XML bytes, uploaded as tracking (fulfilment), issued invoices (finance)
//! and calendar (admin) and given to `import-certificates`. Each is refused with the budget
//! named, nothing changes, and the server keeps answering with the earlier application intact.
//! Files written the way real programs write them still import.

use crate::both;
use crate::helpers::*;
use std::io::{Read, Write};
use std::sync::OnceLock;

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

type Zip = zip::ZipWriter<std::io::Cursor<Vec<u8>>>;

/// An xlsx of one sheet (`sheet1.xml` as given), shared strings when given, and extra members.
fn xlsx(sheet: &str, shared: Option<&[&str]>, extra: &mut dyn FnMut(&mut Zip)) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    let put = |w: &mut zip::ZipWriter<_>, name: &str, text: String| {
        w.start_file(name, o).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    };
    put(&mut w, "[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#.into());
    put(
        &mut w,
        "_rels/.rels",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        ),
    );
    put(
        &mut w,
        "xl/workbook.xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        ),
    );
    put(
        &mut w,
        "xl/_rels/workbook.xml.rels",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
        ),
    );
    put(&mut w, "xl/worksheets/sheet1.xml", sheet.to_owned());
    if let Some(s) = shared {
        let items: String = s.iter().map(|t| format!("<si><t>{t}</t></si>")).collect();
        put(
            &mut w,
            "xl/sharedStrings.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{n}" uniqueCount="{n}">{items}</sst>"#,
                n = s.len()
            ),
        );
    }
    extra(&mut w);
    w.finish().unwrap().into_inner()
}

/// `<c>` elements: `(ref, inline string)`.
fn sheet_xml(dimension: Option<&str>, rows: &[(u32, &[(&str, &str)])]) -> String {
    let mut x = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">"#
    );
    if let Some(d) = dimension {
        x += &format!(r#"<dimension ref="{d}"/>"#);
    }
    x += "<sheetData>";
    for (r, cells) in rows {
        x += &format!(r#"<row r="{r}">"#);
        for (at, v) in *cells {
            x += &format!(r#"<c r="{at}" t="inlineStr"><is><t>{v}</t></is></c>"#);
        }
        x += "</row>";
    }
    x + "</sheetData></worksheet>"
}

/// The spreadsheet bomb: one cell in A1, one in XFD1048576 (calamine's dense range would be
/// 1.7e10 cells).
fn sparse_bomb() -> Vec<u8> {
    let sheet = sheet_xml(
        Some("A1:XFD1048576"),
        &[
            (1, &[("A1", "订单号")]),
            (1_048_576, &[("XFD1048576", "运单号")]),
        ],
    );
    xlsx(&sheet, None, &mut |_| {})
}

fn small_sheet() -> String {
    sheet_xml(
        Some("A1:B2"),
        &[
            (1, &[("A1", "日期"), ("B1", "类型")]),
            (2, &[("A2", "2026-10-01"), ("B2", "放假")]),
        ],
    )
}

/// A workbook with a member that unpacks to 257 MiB (more than the 256 MiB budget) from about
/// 260 KB; built once.
fn member_bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        xlsx(&small_sheet(), None, &mut |w| {
            let o = zip::write::SimpleFileOptions::default().large_file(false);
            w.start_file("xl/media/image1.bin", o).unwrap();
            let mut zeros = std::io::repeat(0).take(257 * 1024 * 1024);
            std::io::copy(&mut zeros, w).unwrap();
        })
    })
}

/// A workbook with 2,001 members more than it needs (the budget is 2,000).
fn many_members() -> Vec<u8> {
    xlsx(&small_sheet(), None, &mut |w| {
        for i in 0..2001 {
            w.start_file(
                format!("xl/media/{i}.bin"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
        }
    })
}

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_backoffice"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("BACKOFFICE_DATA_DIR", app.dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

async fn every_page_refuses_the_bombs_and_keeps_serving(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    let before = app.get_json(&format!("/api/v1/applications/{id}")).await;
    let certificates = app.storage.certificate_count().await.unwrap();
    let calendar = app.storage.load_calendar().await.unwrap();
    let fulfilment = app.signed_in_staff("clerk", "fulfillment").await;
    let finance = app.signed_in_staff("cashier", "finance").await;
    let admin = app.signed_in_staff("root", "admin").await;
    let pages = [
        (&fulfilment, "/fulfilment/tracking"),
        (&finance, "/finance/invoices/issued"),
        (&admin, "/admin/calendar/import"),
    ];
    let bombs: [(&str, Vec<u8>, &str, &str); 3] = [
        (
            "sparse.xlsx",
            sparse_bomb(),
            "BACKOFFICE_FILE_MAX_ROWS",
            "第 1048576 行 XFD 列",
        ),
        (
            "member.xlsx",
            member_bomb().to_vec(),
            "BACKOFFICE_FILE_MAX_MEMBER_BYTES",
            "268435456",
        ),
        (
            "many.xlsx",
            many_members(),
            "BACKOFFICE_FILE_MAX_ZIP_MEMBERS",
            "2000",
        ),
    ];
    assert!(
        bombs[0].1.len() < 5 * 1024,
        "the bomb is {} bytes",
        bombs[0].1.len()
    );
    for (browser, path) in pages {
        for (name, bytes, setting, detail) in &bombs {
            let (status, page) = if path == "/fulfilment/tracking" {
                // Read by the import job: refused on the job's page.
                (
                    200,
                    upload_and_wait(browser, path, name, bytes.clone()).await.1,
                )
            } else {
                upload_file(browser, path, name, bytes.clone()).await
            };
            // Refused: the desk's page again with the error, never a server error.
            assert!(status == 200 || status == 422, "{path} {name}: {status}");
            assert!(
                page.contains("文件超出限制") && page.contains(setting) && page.contains(detail),
                "{path} {name}: the page does not name the limit"
            );
            assert!(page.contains("The file is over a limit"), "{path} {name}");
            let h = app.http.get(app.url("/healthz")).send().await.unwrap();
            assert_eq!(h.status(), 200, "{path} {name}");
        }
    }
    // The registry import (command line): refused in one line naming the budget.
    for (name, bytes, setting, _) in &bombs {
        let file = app.dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let o = cli(&app, &["import-certificates", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name}");
        assert!(
            err.contains(setting) && err.contains("文件超出限制"),
            "{name}: {err}"
        );
    }
    // Nothing changed; the earlier application is as it was.
    assert_eq!(app.storage.certificate_count().await.unwrap(), certificates);
    let after = app.storage.load_calendar().await.unwrap();
    assert_eq!(
        after.entries().collect::<Vec<_>>(),
        calendar.entries().collect::<Vec<_>>()
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/applications/{id}")).await,
        before
    );
    let h = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(h.status(), 200);
}

async fn files_as_real_programs_write_them_import(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.signed_in_staff("root", "admin").await;
    let d = |m: u32, day: u32| chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    // Inline strings and a dimension that lies (A1 only), as streaming writers leave it.
    let inline = xlsx(
        &sheet_xml(
            Some("A1"),
            &[
                (1, &[("A1", "日期"), ("B1", "类型")]),
                (2, &[("A2", "2026-12-07"), ("B2", "放假")]),
            ],
        ),
        None,
        &mut |_| {},
    );
    // Shared strings, no dimension, cells without positions, a prefixed namespace (WPS).
    let wps_sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row><x:c t="s"><x:v>0</x:v></x:c><x:c t="s"><x:v>1</x:v></x:c></x:row><x:row><x:c t="s"><x:v>2</x:v></x:c><x:c t="s"><x:v>3</x:v></x:c></x:row></x:sheetData></x:worksheet>"#
    );
    let wps = xlsx(
        &wps_sheet,
        Some(&["日期", "类型", "2026-12-08", "放假"]),
        &mut |_| {},
    );
    let bom = "\u{feff}日期,类型,名称\r\n2026-12-09,放假,测试\r\n"
        .as_bytes()
        .to_vec();
    let (gbk, _, _) = encoding_rs::GBK.encode("日期,类型,名称\r\n2026-12-10,放假,测试\r\n");
    for (name, bytes, day) in [
        ("inline.xlsx", inline, d(12, 7)),
        ("wps.xlsx", wps, d(12, 8)),
        ("bom.csv", bom, d(12, 9)),
        ("gbk.csv", gbk.into_owned(), d(12, 10)),
    ] {
        let (status, page) = upload_file(&admin, "/admin/calendar/import", name, bytes).await;
        assert!(status == 200 || status == 303, "{name}: {status}");
        assert!(!page.contains("文件超出限制"), "{name}");
        let cal = app.storage.load_calendar().await.unwrap();
        assert!(
            !cal.is_working_day(day),
            "{name}: {day} is not a holiday now"
        );
    }
}

both!(
    every_page_refuses_the_bombs_and_keeps_serving,
    files_as_real_programs_write_them_import,
);
