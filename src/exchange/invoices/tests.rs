//! Tests of the batch workbook (layout, checks, bytes) and of the read-back of what was issued.

use super::issued_cells::{money, parse_yuan};
use super::issued_table::Value;
use super::layout::cell_ref;
use super::*;
use crate::domain::calendar::beijing;
use crate::domain::money::Fen;
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_xlsxwriter::Workbook;
use std::io::{Cursor, Write};

fn person() -> InvoiceRow {
    InvoiceRow {
        serial: "FP261125000001".into(),
        title: "张三".into(),
        tax_id: None,
        amount_fen: Fen::new(20000),
        hall_reference: "WT202611250001".into(),
        buyer_email: "zhang@example.com".into(),
    }
}

fn company() -> InvoiceRow {
    InvoiceRow {
        serial: "FP261125000002".into(),
        title: "深圳市某某科技有限公司".into(),
        tax_id: Some("91440300MA5ABCDE1X".into()),
        amount_fen: Fen::new(19999),
        hall_reference: "WT202611250002".into(),
        buyer_email: String::new(),
    }
}

fn open(bytes: &[u8]) -> Xlsx<Cursor<&[u8]>> {
    calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap()
}

fn cell(wb: &mut Xlsx<Cursor<&[u8]>>, sheet: &str, at: &str) -> Data {
    let (r, c) = cell_ref(at).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range
        .get_value((r, u32::from(c)))
        .cloned()
        .unwrap_or(Data::Empty)
}

fn s(v: &str) -> Data {
    Data::String(v.into())
}

#[test]
fn the_shipped_layout() {
    let l = Layout::default_layout();
    assert_eq!(l.marker, "pt:20260401");
    let names: Vec<&str> = l.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "1-发票基本信息",
            "2-发票明细信息",
            "3-特定业务信息",
            "4-附加要素信息"
        ]
    );
    assert_eq!(l.sheets[0].width(), 39);
    assert_eq!(l.sheets[1].width(), 14);
    assert_eq!(l.sheets[0].find("备注").unwrap().0, 22); // W
    assert_eq!(l.sheets[0].find("每千克煤炭发热量").unwrap().0, 24); // Y, line break ignored
    assert_eq!(l.sheets[0].find("收款人").unwrap().0, 37); // AL
    assert_eq!(l.sheets[0].find("购买方邮箱").unwrap().1.max, Some(72));
    assert!(Layout::from_toml("version = 1").is_err());
    let broken =
        include_str!("../../../reports/invoice-batch.toml").replace("role = \"lines\"", "");
    assert!(matches!(
        Layout::from_toml(&broken),
        Err(LayoutError::Invalid(_))
    ));
}

#[test]
fn serials_and_money() {
    let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    assert_eq!(serial("FP", d, 1), "FP261125000001");
}

#[test]
fn a_batch_written_and_read_back() {
    let layout = Layout::default_layout();
    let cfg = InvoiceConfig {
        payee: "李四".into(),
        ..InvoiceConfig::default()
    };
    let bytes = write_batch(&layout, &cfg, &[person(), company()]).unwrap();
    assert_eq!(
        bytes,
        write_batch(&layout, &cfg, &[person(), company()]).unwrap()
    );
    let mut wb = open(&bytes);
    assert_eq!(
        wb.sheet_names(),
        [
            "1-发票基本信息",
            "2-发票明细信息",
            "3-特定业务信息",
            "4-附加要素信息",
            "excelVersion"
        ]
    );
    let meta = wb.sheets_metadata();
    assert!(
        meta[..4]
            .iter()
            .all(|m| m.visible == calamine::SheetVisible::Visible)
    );
    assert_eq!(meta[4].visible, calamine::SheetVisible::Hidden);
    assert_eq!(cell(&mut wb, "excelVersion", "A4"), s("pt:20260401"));

    let one = "1-发票基本信息";
    assert!(matches!(cell(&mut wb, one, "A1"), Data::String(t) if t.starts_with("填写说明")));
    assert_eq!(cell(&mut wb, one, "A2"), s("必填"));
    assert_eq!(cell(&mut wb, one, "A3"), s("发票流水号"));
    assert_eq!(
        cell(&mut wb, one, "L3"),
        s("购买方所在地区（报废产品收购必填）")
    );
    assert_eq!(
        cell(&mut wb, one, "P3"),
        s("购买方详细地址（报废产品收购必填）")
    );
    assert_eq!(cell(&mut wb, one, "Y3"), s("每千克煤炭\n发热量"));
    assert_eq!(cell(&mut wb, one, "AM3"), s("复核人"));
    // The individual.
    for (at, v) in [
        ("A4", "FP261125000001"),
        ("B4", "普通发票"),
        ("D4", "是"),
        ("E4", "是"),
        ("F4", "张三"),
        ("W4", "申请编号：WT202611250001"),
        ("AL4", "李四"),
    ] {
        assert_eq!(cell(&mut wb, one, at), s(v), "{at}");
    }
    assert_eq!(cell(&mut wb, one, "G4"), Data::Empty);
    assert_eq!(
        cell(&mut wb, one, "AE4"),
        Data::Empty,
        "no e-mail unless configured"
    );
    // The organisation.
    assert_eq!(cell(&mut wb, one, "E5"), s("否"));
    assert_eq!(cell(&mut wb, one, "G5"), s("91440300MA5ABCDE1X"));
    let two = "2-发票明细信息";
    assert_eq!(cell(&mut wb, two, "H3"), s("金额"));
    for (at, v) in [
        ("A4", "FP261125000001"),
        ("B4", "数字证书补办服务费"),
        ("C4", "3040203000000000000"),
        ("E4", "次"),
        ("F4", "1"),
        ("G4", "200.00"),
        ("H4", "200.00"),
        ("I4", "0.06"),
        ("H5", "199.99"),
    ] {
        assert_eq!(cell(&mut wb, two, at), s(v), "{at}");
    }
    // Every written cell is a string, and no sheet holds a number.
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        assert!(
            range
                .used_cells()
                .all(|(_, _, d)| matches!(d, Data::String(_))),
            "{name}"
        );
    }
    assert_eq!(
        wb.worksheet_range("3-特定业务信息").unwrap().end(),
        Some((2, 0)),
        "sheet 3 has its header rows only"
    );
    assert_eq!(cell(&mut wb, "4-附加要素信息", "C3"), s("附加要素内容"));
    // The cells carry the text number format "@" (built-in format 49).
    let mut z = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    let mut styles = String::new();
    std::io::Read::read_to_string(&mut z.by_name("xl/styles.xml").unwrap(), &mut styles).unwrap();
    assert!(styles.contains("numFmtId=\"49\""), "{styles}");
}

#[test]
fn buyer_email_only_when_configured() {
    let cfg = InvoiceConfig {
        fill_buyer_email: true,
        ..InvoiceConfig::default()
    };
    let bytes = write_batch(&Layout::default_layout(), &cfg, &[person()]).unwrap();
    let mut wb = open(&bytes);
    assert_eq!(
        cell(&mut wb, "1-发票基本信息", "AE4"),
        s("zhang@example.com")
    );
}

#[test]
fn a_header_the_export_needs_must_be_in_the_layout() {
    let text = include_str!("../../../reports/invoice-batch.toml")
        .replace("{ header = \"备注\", hint = \"非必填\", max = 230 },", "");
    let layout = Layout::from_toml(&text).unwrap();
    let e = write_batch(&layout, &InvoiceConfig::default(), &[person()]).unwrap_err();
    assert_eq!(
        e,
        LayoutError::MissingHeader {
            sheet: "1-发票基本信息".into(),
            header: "备注".into()
        }
    );
    assert!(e.to_string().contains("备注"));
    // An optional header is needed only once the settings give it a value.
    let text = include_str!("../../../reports/invoice-batch.toml")
        .replace("{ header = \"收款人\", hint = \"非必填\", max = 16 },", "");
    let layout = Layout::from_toml(&text).unwrap();
    assert!(write_batch(&layout, &InvoiceConfig::default(), &[person()]).is_ok());
    let cfg = InvoiceConfig {
        payee: "李四".into(),
        ..InvoiceConfig::default()
    };
    assert!(matches!(
        write_batch(&layout, &cfg, &[person()]),
        Err(LayoutError::MissingHeader { header, .. }) if header == "收款人"
    ));
    // Headers are matched without whitespace and line breaks.
    let text = include_str!("../../../reports/invoice-batch.toml")
        .replace("header = \"购买方名称\"", "header = \" 购买方\\n名称 \"");
    let layout = Layout::from_toml(&text).unwrap();
    let bytes = write_batch(&layout, &InvoiceConfig::default(), &[person()]).unwrap();
    assert_eq!(cell(&mut open(&bytes), "1-发票基本信息", "F4"), s("张三"));
}

#[test]
fn bad_rows_and_settings_are_refused() {
    let l = Layout::default_layout();
    let cfg = InvoiceConfig::default();
    assert!(check_row(&l, &cfg, &person()).is_ok());
    assert!(check_row(&l, &cfg, &company()).is_ok());
    let with = |f: &dyn Fn(&mut InvoiceRow)| {
        let mut r = person();
        f(&mut r);
        check_row(&l, &cfg, &r).unwrap_err()
    };
    assert!(with(&|r| r.title = "张".into()).contains("at least 2"));
    assert!(with(&|r| r.title = "  ".into()).contains("empty"));
    assert!(with(&|r| r.title = "张".repeat(101)).contains("购买方名称 has 101 characters"));
    assert!(with(&|r| r.tax_id = Some("123".into())).contains("tax id"));
    assert!(with(&|r| r.amount_fen = Fen::new(0)).contains("not positive"));
    assert!(with(&|r| r.serial = "FP-1".into()).contains("serial"));
    assert!(with(&|r| r.hall_reference = "13812345678".into()).contains("mobile"));
    assert!(with(&|r| r.hall_reference = "44030119900101123X".into()).contains("ID"));
    assert!(with(&|r| r.hall_reference = format!("WT{}", "备".repeat(230))).contains("备注"));
    assert!(
        check_row(
            &l,
            &cfg,
            &InvoiceRow {
                hall_reference: "20261125000001".into(),
                ..person()
            }
        )
        .is_ok()
    );
    // An organisation's one-character name is allowed.
    let mut r = company();
    r.title = "某".into();
    assert!(check_row(&l, &cfg, &r).is_ok());
    // Bad rows never reach the file.
    let e = write_batch(&l, &cfg, &[person(), person()]).unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
    for bad in [
        InvoiceConfig {
            max_per_file: 999,
            ..InvoiceConfig::default()
        },
        InvoiceConfig {
            tax_code: "304020300".into(),
            ..InvoiceConfig::default()
        },
        InvoiceConfig {
            tax_rate: "6%".into(),
            ..InvoiceConfig::default()
        },
        InvoiceConfig {
            remark: "{id_number}".into(),
            ..InvoiceConfig::default()
        },
        InvoiceConfig {
            seller_show: "是".into(),
            ..InvoiceConfig::default()
        },
    ] {
        assert!(matches!(
            write_batch(&l, &bad, &[person()]),
            Err(LayoutError::Config(_))
        ));
    }
    let toml_cfg: InvoiceConfig =
        toml::from_str("tax_rate = \"0.03\"\nmax_per_file = 200").unwrap();
    assert_eq!(toml_cfg.tax_rate, "0.03");
    assert_eq!(toml_cfg.item_name, "数字证书补办服务费");
    assert!(toml_cfg.validate().is_ok());
}

#[test]
fn a_large_batch_streams() {
    let rows: Vec<InvoiceRow> = (1..=5_000)
        .map(|i| InvoiceRow {
            serial: format!("FP261125{i:06}"),
            ..person()
        })
        .collect();
    let bytes = write_batch(&Layout::default_layout(), &InvoiceConfig::default(), &rows).unwrap();
    let mut wb = open(&bytes);
    assert_eq!(
        cell(&mut wb, "2-发票明细信息", "A5003"),
        s("FP261125005000")
    );
}

/// 100,000 rows in low-memory mode: a few seconds, about 60 MB in all (rows and output included).
#[test]
fn a_hundred_thousand_rows() {
    let rows: Vec<InvoiceRow> = (1..=100_000)
        .map(|i| InvoiceRow {
            serial: format!("FP261125{i:06}"),
            ..person()
        })
        .collect();
    let bytes = write_batch(&Layout::default_layout(), &InvoiceConfig::default(), &rows).unwrap();
    assert!(bytes.len() > 100_000);
}

// ---- reading back -------------------------------------------------------------------------

const BASIC: [&str; 19] = [
    "序号",
    "发票代码",
    "发票号码",
    "数电发票号码",
    "销方识别号",
    "销方名称",
    "购方识别号",
    "购买方名称",
    "开票日期",
    "金额",
    "税额",
    "价税合计",
    "发票来源",
    "发票票种",
    "发票状态",
    "是否正数发票",
    "发票风险等级",
    "开票人",
    "备注",
];

enum V<'a> {
    T(&'a str),
    N(f64),
    D(&'a str),
}

/// A platform-style export with one sheet, header in row 1.
fn export(sheet: &str, headers: &[&str], rows: &[Vec<(&str, V)>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (h, v) in row {
            let c = headers.iter().position(|x| x == h).unwrap() as u16;
            let r = r as u32 + 1;
            match v {
                V::T(t) => ws.write_string(r, c, *t).map(|_| ()),
                V::N(n) => ws.write_number(r, c, *n).map(|_| ()),
                V::D(d) => ws
                    .write_datetime_with_format(
                        r,
                        c,
                        rust_xlsxwriter::ExcelDateTime::parse_from_str(d).unwrap(),
                        &date,
                    )
                    .map(|_| ()),
            }
            .unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

const N1: &str = "26442000000123456789";
const N2: &str = "26442000000123456790";
const N3: &str = "26442000000123456791";

fn basic_rows() -> Vec<Vec<(&'static str, V<'static>)>> {
    vec![
        vec![
            ("序号", V::N(1.0)),
            ("数电发票号码", V::T(N1)),
            ("销方识别号", V::T("91440300MA5SELLER1")),
            ("购买方名称", V::T("张三")),
            ("开票日期", V::T("2026-11-25 12:00:00")),
            ("金额", V::N(188.68)),
            ("价税合计", V::N(200.0)),
            ("发票状态", V::T("正常")),
            ("是否正数发票", V::T("是")),
            ("备注", V::T("申请编号：WT202611250001")),
        ],
        vec![
            ("序号", V::N(2.0)),
            ("数电发票号码", V::T(N2)),
            ("购买方名称", V::T("深圳市某某科技有限公司")),
            ("开票日期", V::D("2026-11-25 12:30:00")),
            ("价税合计", V::T("199.99")),
            ("发票状态", V::T("正常")),
            ("是否正数发票", V::T("是")),
        ],
        vec![
            ("序号", V::N(3.0)),
            ("数电发票号码", V::T(N3)),
            ("购买方名称", V::T("张三")),
            ("开票日期", V::T("2026-11-26 09:00:00")),
            ("价税合计", V::N(-200.0)),
            ("发票状态", V::T("已红冲")),
            ("是否正数发票", V::T("否")),
            ("备注", V::T("被红冲蓝字数电票号码：26442000000123456789")),
        ],
    ]
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    beijing()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn the_platform_export() {
    let f = read_issued(&export("发票基础信息", &BASIC, &basic_rows())).unwrap();
    assert_eq!(f.lines.len(), 3);
    let [a, b, c] = &f.lines[..] else {
        unreachable!()
    };
    assert_eq!((a.row, a.number.as_str()), (2, N1));
    assert_eq!(a.issued_at, at(2026, 11, 25, 12, 0));
    assert_eq!(a.amount_fen, Fen::new(20000), "价税合计, not 金额");
    assert!(a.positive);
    assert_eq!(a.status, "正常");
    assert_eq!(a.remark, "申请编号：WT202611250001");
    assert_eq!(a.seller_tax_id.as_deref(), Some("91440300MA5SELLER1"));
    assert_eq!(a.serial, None);
    assert_eq!(a.link, None);
    assert_eq!(b.issued_at, at(2026, 11, 25, 12, 30), "an Excel date-time");
    assert_eq!(b.amount_fen, Fen::new(19999));
    assert!(!c.positive);
    assert_eq!(c.amount_fen, Fen::new(-20000));
    assert!(f.files.is_empty() && f.failures.is_empty());
}

#[test]
fn the_line_sheet_when_the_invoice_sheet_is_absent() {
    let headers = [
        "序号",
        "数电发票号码",
        "销方识别号",
        "购买方名称",
        "开票日期",
        "货物或应税劳务名称",
        "金额",
        "价税合计",
        "是否正数发票",
        "备注",
    ];
    let line = |n: &'static str, total: f64| {
        vec![
            ("数电发票号码", V::T(n)),
            ("购买方名称", V::T("张三")),
            ("开票日期", V::D("2026-11-25 12:00:00")),
            ("价税合计", V::N(total)),
            ("是否正数发票", V::T("是")),
        ]
    };
    let bytes = export(
        "信息汇总表",
        &headers,
        &[line(N1, 150.0), line(N2, 10.0), line(N1, 50.0)],
    );
    let f = read_issued(&bytes).unwrap();
    assert_eq!(f.lines.len(), 2);
    assert_eq!(
        (f.lines[0].number.as_str(), f.lines[0].amount_fen.get()),
        (N1, 20000)
    );
    assert_eq!(f.lines[0].row, 2);
    assert_eq!(f.lines[1].amount_fen, Fen::new(1000));
    // In 发票基础信息 the same number twice is an error.
    let bytes = export("发票基础信息", &headers, &[line(N1, 150.0), line(N1, 50.0)]);
    let e = read_issued(&bytes).unwrap_err();
    assert!(e.to_string().contains("appears already in row 2"), "{e}");
}

#[test]
fn damaged_numbers_and_values_refuse_the_file() {
    let mut rows = basic_rows();
    rows[1][1] = ("数电发票号码", V::T("2.6212E+19"));
    let e = read_issued(&export("发票基础信息", &BASIC, &rows)).unwrap_err();
    let IssuedError::Cells { sheet, errors } = &e else {
        panic!("{e}")
    };
    assert_eq!(sheet, "发票基础信息");
    assert_eq!(errors[0].row, 3);
    assert_eq!(errors[0].column, "D (数电发票号码)");
    assert!(errors[0].message.contains("original download"), "{e}");
    rows[1][1] = ("数电发票号码", V::N(2.6442e19));
    let e = read_issued(&export("发票基础信息", &BASIC, &rows)).unwrap_err();
    assert!(
        e.to_string().contains("row 3, column D (数电发票号码)"),
        "{e}"
    );
    assert!(e.to_string().contains("original download"), "{e}");
    // Fractions of a fen, a bad date, a bad flag: all reported.
    let mut rows = basic_rows();
    rows[0][6] = ("价税合计", V::N(199.999));
    rows[1][3] = ("开票日期", V::T("25.11.2026"));
    rows[2][6] = ("是否正数发票", V::T("N"));
    let e = read_issued(&export("发票基础信息", &BASIC, &rows)).unwrap_err();
    let IssuedError::Cells { errors, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].message.contains("fractions of a fen"));
    assert_eq!(errors[1].column, "I (开票日期)");
    assert_eq!(errors[2].column, "P (是否正数发票)");
    // A missing column is named.
    let headers: Vec<&str> = BASIC
        .iter()
        .copied()
        .filter(|h| *h != "价税合计" && *h != "金额")
        .collect();
    let rows: Vec<_> = basic_rows()
        .into_iter()
        .map(|r| {
            r.into_iter()
                .filter(|(h, _)| *h != "价税合计" && *h != "金额")
                .collect()
        })
        .collect();
    let e = read_issued(&export("发票基础信息", &headers, &rows)).unwrap_err();
    assert_eq!(
        e,
        IssuedError::MissingColumn {
            sheet: "发票基础信息".into(),
            column: "价税合计 | 金额".into()
        }
    );
}

#[test]
fn exact_amounts() {
    for (text, fen) in [
        ("200", 20000),
        ("200.00", 20000),
        ("199.99", 19999),
        ("-200.00", -20000),
        ("¥1,200.50", 120050),
        ("0.1", 10),
        ("200.000", 20000),
    ] {
        assert_eq!(parse_yuan(text), Ok(Fen::new(fen)), "{text}");
    }
    for bad in ["1.001", "2.0E+2", "12,34", "", "abc", "1.2.3"] {
        assert!(parse_yuan(bad).is_err(), "{bad}");
    }
    assert_eq!(money(&Value::Float(199.99)), Ok(Fen::new(19999)));
    assert_eq!(money(&Value::Float(0.29)), Ok(Fen::new(29)));
    assert_eq!(money(&Value::Float(1.15)), Ok(Fen::new(115)));
    assert!(money(&Value::Float(0.1 + 0.2)).is_err());
    assert_eq!(money(&Value::Int(200)), Ok(Fen::new(20000)));
}

/// The platform's amounts are read as every other amount is: where the text has no currency sign
/// or separators, the invoice reader and `Fen::parse_yuan` agree; what either refuses, the
/// reader refuses naming the cell's text.
#[test]
fn amounts_read_as_fen_reads_them() {
    use crate::domain::money::Fen;
    for text in [
        "0",
        "-0",
        "1.",
        "007.05",
        "-0.01",
        "200",
        "199.99",
        "92233720368547758.07",
        "1.001",
        "abc",
        ".5",
        "",
        "1e3",
        "92233720368547758.08",
        "-92233720368547758.08",
    ] {
        assert_eq!(
            parse_yuan(text).ok(),
            Fen::parse_yuan(text).ok(),
            "{text:?}"
        );
    }
    for (text, why) in [
        ("+1", "is not an amount"),
        ("¥+1", "is not an amount"),
        ("--1", "is not an amount"),
        ("1,2345", "is not an amount"),
        ("¥1,200.501", "has fractions of a fen"),
        ("92,233,720,368,547,758.08", "is too large"),
        ("2.0E+2", "exponent form"),
    ] {
        let e = parse_yuan(text).unwrap_err();
        assert!(
            e.contains(why) && e.contains(&format!("'{text}'")),
            "{text:?}: {e}"
        );
    }
}

#[test]
fn a_plain_gbk_list_with_links() {
    let text = "发票号码,开票日期,购买方名称,金额,备注,发票流水号,下载链接\r\n\
        26442000000123456789,2026-11-25 12:00:00,张三,200.00,申请编号：WT202611250001,FP261125000001,https://dppt.example.cn/a?b=1\r\n\
        \r\n\
        26442000000123456790,2026/11/25 13:00:00,李四,199.99,,FP261125000002,\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let f = read_issued(&gbk).unwrap();
    assert_eq!(f.lines.len(), 2);
    let a = &f.lines[0];
    assert_eq!(a.serial.as_deref(), Some("FP261125000001"));
    assert_eq!(a.link.as_deref(), Some("https://dppt.example.cn/a?b=1"));
    assert!(a.positive);
    assert_eq!(f.lines[1].row, 4);
    assert_eq!(f.lines[1].issued_at, at(2026, 11, 25, 13, 0));
    assert_eq!(f.lines[1].link, None);
    let bad = text.replace("https://dppt.example.cn/a?b=1", "javascript:alert(1)");
    let e = read_issued(bad.as_bytes()).unwrap_err();
    assert!(
        e.to_string()
            .contains("sheet CSV: row 2, column G (下载链接)"),
        "{e}"
    );
}

#[test]
fn a_zip_of_the_export_and_invoice_files() {
    let xlsx = export("发票基础信息", &BASIC, &basic_rows());
    let pdf_name = format!("dzfp_{N1}_深圳某CA有限公司_20261125120000.pdf");
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.add_directory("发票/", opts).unwrap();
    w.start_file("全量发票查询导出结果.xlsx", opts).unwrap();
    w.write_all(&xlsx).unwrap();
    w.start_file(format!("发票/{pdf_name}"), opts).unwrap();
    w.write_all(b"%PDF-1.7 ...").unwrap();
    w.start_file(format!("发票/dzfp_{N2}_x_20261125123000.xml"), opts)
        .unwrap();
    w.write_all(b"<EInvoice/>").unwrap();
    let z = w.finish().unwrap().into_inner();
    let f = read_issued(&z).unwrap();
    assert_eq!(f.lines.len(), 3);
    assert_eq!(f.files.len(), 2);
    assert_eq!(f.files[0].number, N1);
    assert_eq!(f.files[0].name, format!("发票/{pdf_name}"));
    assert_eq!(f.files[0].bytes, b"%PDF-1.7 ...");
    assert_eq!(f.files[1].number, N2);
    // A damaged member names itself.
    let mut rows = basic_rows();
    rows[0][1] = ("数电发票号码", V::T("2.6442E+19"));
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("export.xlsx", opts).unwrap();
    w.write_all(&export("发票基础信息", &BASIC, &rows)).unwrap();
    w.start_file("invoice.pdf", opts).unwrap();
    w.write_all(b"%PDF").unwrap();
    let e = read_issued(&w.finish().unwrap().into_inner()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("in member 1 (export.xlsx): sheet 发票基础信息: row 2"),
        "{e}"
    );
}

#[test]
fn the_failure_list() {
    let headers = [
        "发票流水号",
        "发票类型",
        "特定业务类型",
        "购买方名称",
        "购买方税号",
        "错误原因",
    ];
    let bytes = export(
        "失败明细",
        &headers,
        &[
            vec![
                ("发票流水号", V::T("FP261125000001")),
                ("购买方名称", V::T("张")),
                ("错误原因", V::T("购买方名称长度不符合要求")),
            ],
            vec![
                ("发票流水号", V::T("FP261125000002")),
                ("错误原因", V::T("税率不在允许范围")),
            ],
        ],
    );
    let f = read_issued(&bytes).unwrap();
    assert!(f.lines.is_empty());
    assert_eq!(
        f.failures,
        vec![
            FailureLine {
                row: 2,
                serial: "FP261125000001".into(),
                reason: "购买方名称长度不符合要求".into()
            },
            FailureLine {
                row: 3,
                serial: "FP261125000002".into(),
                reason: "税率不在允许范围".into()
            },
        ]
    );
    // With a title row above the header, as a CSV.
    let csv = "导入失败明细\n发票流水号,导入失败原因\nFP261125000003,购买方纳税人识别号错误\n";
    let f = read_issued(csv.as_bytes()).unwrap();
    assert_eq!(f.failures[0].row, 3);
    assert_eq!(f.failures[0].serial, "FP261125000003");
    assert!(read_issued(b"hello,world\n1,2\n").is_err());
    assert!(
        read_issued(b"%PDF-1.7")
            .unwrap_err()
            .to_string()
            .contains("zip")
    );
}
