//! Every reader of an uploaded file (`fuzzing::TARGETS`), fed arbitrary bytes, CSV-shaped text
//! (UTF-8, GBK, with a BOM) and xlsx files of arbitrary cells at arbitrary positions — inline and
//! ISO-date (`t="d"`) cells included, the shape that panicked `sheet.rs` when a multi-byte
//! character crossed byte 10 (issue 17, item 10): each reads or refuses with its typed error,
//! never panics. The cargo-fuzz targets run the same entry points for longer in CI.

use super::fuzzing::TARGETS;
use proptest::prelude::*;
use std::io::Write;

/// A cell's text: arbitrary, or near what the readers look for.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9\\-/: ]{0,19}",
        "2026-1[0-2]-[0-9中é]{1,4}",
        "[日期类型名称放假上班订单号运单号发票号码失败原因a-z0-9\"]{0,8}",
    ]
}

fn grid() -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(prop::collection::vec(cell(), 0..6), 0..8)
}

fn csv_text(g: &[Vec<String>]) -> String {
    g.iter()
        .map(|r| r.join(","))
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn esc(s: &str) -> String {
    s.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An xlsx whose cells are (row, column, text, as an ISO date cell).
fn xlsx(cells: &[(u32, u32, String, bool)], dimension: &str) -> Vec<u8> {
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let mut sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/><sheetData>"#
    );
    let mut sorted = cells.to_vec();
    sorted.sort_by_key(|c| (c.0, c.1));
    for (r, c, v, date) in &sorted {
        let at = format!("{}{}", super::sheet::column_letter(*c as usize), r + 1);
        if *date {
            sheet += &format!(
                r#"<row r="{}"><c r="{at}" t="d"><v>{}</v></c></row>"#,
                r + 1,
                esc(v)
            );
        } else {
            sheet += &format!(
                r#"<row r="{}"><c r="{at}" t="inlineStr"><is><t>{}</t></is></c></row>"#,
                r + 1,
                esc(v)
            );
        }
    }
    sheet += "</sheetData></worksheet>";
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for (name, text) in [
        (
            "_rels/.rels".to_string(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/workbook.xml".to_string(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels".to_string(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
            ),
        ),
        ("xl/worksheets/sheet1.xml".to_string(), sheet),
    ] {
        w.start_file(name, o).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn every_reader(data: &[u8]) {
    for (name, parse) in TARGETS {
        if let Err(e) = parse(data) {
            assert!(!e.is_empty(), "{name}: an empty refusal");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_bytes(b in prop::collection::vec(any::<u8>(), 0..1024)) {
        every_reader(&b);
        // The same bytes behind each signature the readers tell formats by.
        for magic in [&b"PK\x03\x04"[..], &[0x1F, 0x8B], &[0xD0, 0xCF, 0x11, 0xE0], b"%PDF", "交易时间,".as_bytes(), "#支付宝业务明细查询\n".as_bytes()] {
            every_reader(&[magic, &b].concat());
        }
    }

    #[test]
    fn csv_shaped_text(g in grid(), bom in any::<bool>()) {
        let text = csv_text(&g);
        every_reader(&[if bom { &b"\xEF\xBB\xBF"[..] } else { b"" }, text.as_bytes()].concat());
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        every_reader(&gbk);
    }

    #[test]
    fn xlsx_of_arbitrary_cells(
        cells in prop::collection::vec((0u32..40, 0u32..12, cell(), any::<bool>()), 0..24),
        dimension in prop_oneof![Just("A1".to_string()), Just("A1:XFD1048576".to_string()), "[A-Z]{1,3}[0-9]{1,7}(:[A-Z]{1,3}[0-9]{1,7})?"],
    ) {
        let file = xlsx(&cells, &dimension);
        every_reader(&file);
        // Cut short, as an interrupted upload leaves it.
        every_reader(&file[..file.len() / 2]);
    }

    #[test]
    fn bills_shaped_text(lines in prop::collection::vec(cell(), 0..12), alipay in any::<bool>()) {
        let head = if alipay { "#支付宝业务明细查询\n#账号：[20881234567890120156]\n" } else { "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\n" };
        let text = format!("{head}{}", lines.join("\n`"));
        every_reader(text.as_bytes());
    }
}
