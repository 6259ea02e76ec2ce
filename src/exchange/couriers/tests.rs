//! The couriers' unit tests: layouts, settings and patterns, addresses and rows, the workbook,
//! the tracking import.

use super::pattern::Pattern;
use super::*;
use crate::domain::calendar::beijing;
use crate::exchange::sheet::{RowError, SheetError};
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, TimeZone, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::io::Cursor;
use std::path::{Path, PathBuf};

fn cfg() -> CourierConfig {
    CourierConfig {
        sender: SenderConfig {
            company: "深圳某CA有限公司".into(),
            name: "王五".into(),
            phone: "0755-88886666".into(),
            province: "广东省".into(),
            city: "深圳市".into(),
            district: "福田区".into(),
            detail: "深南大道1号".into(),
            postcode: "518000".into(),
        },
        sf: SfConfig {
            monthly_account: "0755123456".into(),
            ..SfConfig::default()
        },
        ..CourierConfig::default()
    }
}

fn row(i: usize) -> ShipmentRow {
    ShipmentRow {
        order_no: format!("WT2026112500{i:02}"),
        recipient_name: "张三".into(),
        recipient_mobile: "13800138000".into(),
        province: "广东省".into(),
        city: "深圳市".into(),
        district: "南山区".into(),
        detail: "科技园路1号".into(),
        postcode: Some("518057".into()),
    }
}

fn open(bytes: &[u8]) -> Xlsx<Cursor<&[u8]>> {
    calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap()
}

fn s(v: &str) -> Data {
    Data::String(v.into())
}

// ---- couriers, layouts, settings ------------------------------------------------------------

#[test]
fn couriers() {
    assert_eq!(Courier::Sf.code(), "SF");
    assert_eq!(Courier::Ems.to_string(), "EMS");
    for t in ["sf", "SF", "顺丰", "顺丰速运", " Sf "] {
        assert_eq!(Courier::parse(t), Some(Courier::Sf), "{t}");
    }
    for t in ["ems", "EMS", "中国邮政", "邮政"] {
        assert_eq!(Courier::parse(t), Some(Courier::Ems), "{t}");
    }
    assert_eq!(Courier::parse("圆通"), None);
    assert_eq!(Courier::Sf.label_zh(), "顺丰速运");
}

#[test]
fn the_shipped_layouts() {
    let sf = CourierLayout::shipped(Courier::Sf);
    assert_eq!(sf.name, "sf-standard-57");
    assert_eq!(sf.columns.len(), 57);
    assert_eq!((sf.header_row, sf.data_row), (2, 3));
    assert_eq!(sf.find("收方联系方式"), Some(12));
    assert_eq!(sf.find("商品名称"), Some(14), "an alias");
    assert_eq!(sf.find("*托寄物内容"), Some(14), "a required mark");
    assert_eq!(sf.find("优惠月结卡号"), Some(56));
    let user = CourierLayout::from_toml(include_str!("../../../reports/couriers/sf-user-44.toml"))
        .unwrap();
    assert_eq!(user.columns.len(), 44);
    assert_eq!(user.find("手机号码"), user.find("收件手机"));
    let ems = CourierLayout::shipped(Courier::Ems);
    assert_eq!((ems.name.as_str(), ems.columns.len()), ("ems-basic", 19));
    assert!(ems.columns[7].required, "收件人邮编");
}

#[test]
fn broken_layouts_are_refused() {
    let sf = include_str!("../../../reports/couriers/sf.toml");
    let cases = [
        (
            sf.replace("\"sf.product\"", "\"sf.prodcut\""),
            "unknown source",
        ),
        (sf.replace("\"子单号\"", "\"运单号\""), "appears twice"),
        (
            sf.replace("last = \"寄方地址\"", "last = \"寄方住址\""),
            "lacks",
        ),
        (sf.replace("header_row = 2", "header_row = 1"), "row above"),
        (
            sf.replace("data_row = 3", "data_row = 2"),
            "header_row < data_row",
        ),
        (
            sf.replace("first = \"收方公司\"", "first = \"寄方地址\""),
            "overlaps",
        ),
    ];
    for (text, want) in cases {
        let e = CourierLayout::from_toml(&text).unwrap_err();
        assert!(e.to_string().contains(want), "{e} / {want}");
    }
    assert!(CourierLayout::from_toml("name = 1").is_err());
    assert!(matches!(
        CourierLayout::load(Path::new("/nonexistent/sf.toml")),
        Err(CourierError::Io { .. })
    ));
    let wrong = CourierConfig {
        ems: EmsConfig {
            layout_file: Some(PathBuf::from("reports/couriers/sf.toml")),
            ..EmsConfig::default()
        },
        ..cfg()
    };
    assert!(
        wrong
            .layout(Courier::Ems)
            .unwrap_err()
            .to_string()
            .contains("is for SF")
    );
    assert_eq!(cfg().layout(Courier::Sf).unwrap().name, "sf-standard-57");
}

#[test]
fn settings() {
    assert!(CourierConfig::default().validate().is_ok());
    let d = CourierConfig::default();
    assert_eq!(
        (d.sf.product.as_str(), d.sf.payment.as_str()),
        ("顺丰标快", "寄付月结")
    );
    assert_eq!(d.contents, "USB Key");
    assert!(cfg().validate().is_ok());
    let bad = |f: &dyn Fn(&mut CourierConfig), want: &str| {
        let mut c = cfg();
        f(&mut c);
        let e = c.validate().unwrap_err();
        assert!(e.contains(want), "{e} / {want}");
    };
    bad(&|c| c.sf.monthly_account = "12345".into(), "10 digits");
    bad(
        &|c| c.sf.payment = "月结".into(),
        "寄付月结 / 寄付现结 / 到付 / 第三方付",
    );
    bad(&|c| c.sender.phone = "88886666".into(), "landline");
    bad(&|c| c.sender.postcode = "51800".into(), "6 digits");
    bad(&|c| c.weight_kg = Some("0".into()), "positive");
    bad(&|c| c.weight_kg = Some("0.2kg".into()), "positive");
    bad(&|c| c.declared_value = Some("1.234".into()), "amount");
    bad(&|c| c.contents = " ".into(), "contents is empty");
    bad(&|c| c.sender.detail = "a\nb".into(), "control");
    bad(
        &|c| c.ems.waybill_patterns = vec!["^(a)(b)$".into()],
        "ems.waybill_patterns",
    );
    bad(
        &|c| c.sf.waybill_patterns.clear(),
        "sf.waybill_patterns is empty",
    );
    let c: CourierConfig = toml::from_str(
        "weight_kg = 0.2\ndeclared_value = 200\n[sender]\nname = \"王五\"\n[sf]\nproduct = \"顺丰特快\"",
    )
    .unwrap();
    assert_eq!(c.weight_kg.as_deref(), Some("0.2"));
    assert_eq!(c.declared_value.as_deref(), Some("200"));
    assert_eq!(
        (c.sf.product.as_str(), c.sf.payment.as_str()),
        ("顺丰特快", "寄付月结")
    );
    assert_eq!(c.sf.waybill_patterns.len(), 2);
    assert!(c.validate().is_ok());
}

#[test]
fn waybill_patterns() {
    let c = CourierConfig::default();
    assert!(waybill_matches(&c, Courier::Sf, "SF1234567890123"));
    assert!(waybill_matches(&c, Courier::Sf, "123456789012"), "legacy");
    assert!(!waybill_matches(&c, Courier::Sf, "SF123456789012"));
    assert!(!waybill_matches(&c, Courier::Sf, "SF12345678901234"));
    assert!(!waybill_matches(&c, Courier::Sf, "1234567890123"));
    assert!(waybill_matches(&c, Courier::Ems, "1234567890123"));
    assert!(waybill_matches(&c, Courier::Ems, "EA123456789CN"));
    assert!(!waybill_matches(&c, Courier::Ems, "SF1234567890123"));
    assert!(!waybill_matches(&c, Courier::Ems, "EA12345678CN"));
    let p = |s: &str| Pattern::parse(s).unwrap();
    assert!(p("^JD[0-9A-F]{4,6}-?X+$").matches("JD0A1FXX"));
    assert!(p("^JD[0-9A-F]{4,6}-?X+$").matches("JD0A1F2-X"));
    assert!(!p("^JD[0-9A-F]{4,6}-?X+$").matches("JD0A1-X"));
    assert!(p(r"^a.c\.d*$").matches("abc."));
    assert!(p("^(?:YT\\d{3,}|ZT\\d{4})$").matches("YT12345"));
    assert!(!p("^(?:YT\\d{3,}|ZT\\d{4})$").matches("ZT12345"));
    // Groups other than one around the whole pattern are refused, not misread.
    for bad in [
        "^(?:YT|ZT)\\d{3,}$",
        "^(a)|(b)$",
        "^(a)(b)$",
        "^[^0-9]$",
        "^a{2,1}$",
        "^[a-$",
        r"^\w+$",
        "^a||b$",
    ] {
        assert!(Pattern::parse(bad).is_err(), "{bad}");
    }
}

// ---- addresses and rows ---------------------------------------------------------------------

#[test]
fn full_addresses() {
    let f = full_address;
    assert_eq!(
        f("广东省", "深圳市", "南山区", "科技园路1号"),
        "广东省深圳市南山区科技园路1号"
    );
    // Municipalities: the city repeats the province, or is 市辖区.
    assert_eq!(
        f("北京市", "北京市", "朝阳区", "建国路1号"),
        "北京市朝阳区建国路1号"
    );
    assert_eq!(
        f("上海市", "市辖区", "浦东新区", "世纪大道1号"),
        "上海市浦东新区世纪大道1号"
    );
    assert_eq!(
        f("重庆市", "县", "巫山县", "广东中路1号"),
        "重庆市巫山县广东中路1号"
    );
    // No county level: the district empty or a street.
    assert_eq!(
        f("广东省", "东莞市", "", "鸿福路1号"),
        "广东省东莞市鸿福路1号"
    );
    assert_eq!(
        f("广东省", "东莞市", "南城街道", "鸿福路1号"),
        "广东省东莞市南城街道鸿福路1号"
    );
    // Province-administered county-level city: city and district coincide.
    assert_eq!(
        f("湖北省", "仙桃市", "仙桃市", "仙桃大道1号"),
        "湖北省仙桃市仙桃大道1号"
    );
    assert_eq!(
        f("河南省", "济源市", "", "济渎路1号"),
        "河南省济源市济渎路1号"
    );
    // Autonomous regions, functional zones, spaces trimmed.
    assert_eq!(
        f(" 内蒙古自治区", "呼和浩特市 ", "新城区", " 新华大街1号 "),
        "内蒙古自治区呼和浩特市新城区新华大街1号"
    );
    assert_eq!(
        f("广东省", "深圳市", "大鹏新区", "葵涌街道1号"),
        "广东省深圳市大鹏新区葵涌街道1号"
    );
    // A prefix the detail already has is not repeated.
    assert_eq!(
        f(
            "广东省",
            "深圳市",
            "南山区",
            "广东省深圳市南山区科技园路1号"
        ),
        "广东省深圳市南山区科技园路1号"
    );
    assert_eq!(
        f("广东省", "深圳市", "南山区", "深圳市南山区科技园路1号"),
        "广东省深圳市南山区科技园路1号"
    );
    assert_eq!(
        f("广东省", "深圳市", "南山区", "南山区科技园路1号"),
        "广东省深圳市南山区科技园路1号"
    );
    assert_eq!(
        f("北京市", "北京市", "朝阳区", "北京市朝阳区建国路1号"),
        "北京市朝阳区建国路1号"
    );
    assert_eq!(
        f("北京市", "市辖区", "朝阳区", "朝阳区建国路1号"),
        "北京市朝阳区建国路1号"
    );
    // A detail that merely resembles a name is kept as it is.
    assert_eq!(
        f("广东省", "中山市", "", "中山路1号"),
        "广东省中山市中山路1号"
    );
}

#[test]
fn rows_are_checked() {
    let sf = CourierLayout::shipped(Courier::Sf);
    let ems = CourierLayout::shipped(Courier::Ems);
    assert_eq!(check_row(Courier::Sf, &sf, &row(1)), Ok(()));
    assert_eq!(check_row(Courier::Ems, &ems, &row(1)), Ok(()));
    let ok = |f: &dyn Fn(&mut ShipmentRow)| {
        let mut r = row(1);
        f(&mut r);
        check_row(Courier::Sf, &sf, &r)
    };
    let fails = |f: &dyn Fn(&mut ShipmentRow), want: &str| {
        let e = ok(f).unwrap_err();
        assert!(e.contains(want), "{e} / {want}");
    };
    assert_eq!(ok(&|r| r.recipient_name = "阿卜杜·热合曼".into()), Ok(()));
    assert_eq!(ok(&|r| r.recipient_name = " 张三 ".into()), Ok(()));
    assert_eq!(ok(&|r| r.recipient_name = "张".repeat(30)), Ok(()));
    assert_eq!(ok(&|r| r.recipient_mobile = "0755-12345678".into()), Ok(()));
    assert_eq!(ok(&|r| r.district = String::new()), Ok(()));
    assert_eq!(ok(&|r| r.postcode = None), Ok(()), "optional for SF");
    assert_eq!(ok(&|r| r.detail = "路".repeat(100)), Ok(()));
    assert_eq!(ok(&|r| r.order_no = "WT202611250001-2".into()), Ok(()));
    fails(&|r| r.recipient_name = "张".repeat(31), "31 characters");
    fails(&|r| r.recipient_name = "  ".into(), "name is empty");
    fails(&|r| r.recipient_name = "张\u{7}三".into(), "control");
    fails(
        &|r| r.recipient_mobile = "12800138000".into(),
        "mobile '12800138000'",
    );
    fails(&|r| r.recipient_mobile = "1380013800".into(), "mobile");
    fails(&|r| r.recipient_mobile = "138-0013-8000".into(), "mobile");
    fails(&|r| r.detail = "路".repeat(101), "101 characters");
    fails(&|r| r.detail = "科技园\r\n路".into(), "control");
    fails(&|r| r.city = String::new(), "no city");
    fails(&|r| r.postcode = Some("51805".into()), "not 6 digits");
    fails(&|r| r.order_no = "WT 1".into(), "ASCII");
    fails(&|r| r.order_no = "WT申请1".into(), "ASCII");
    fails(&|r| r.order_no = "W".repeat(31), "30 ASCII");
    let mut r = row(1);
    r.postcode = None;
    assert!(
        check_row(Courier::Ems, &ems, &r)
            .unwrap_err()
            .contains("postcode")
    );
    r.postcode = Some(String::new());
    assert!(check_row(Courier::Ems, &ems, &r).is_err());
}

// ---- the workbook ---------------------------------------------------------------------------

#[test]
fn the_sf_workbook_column_by_column() {
    let layout = CourierLayout::shipped(Courier::Sf);
    let mut c = cfg();
    c.weight_kg = Some("0.2".into());
    let mut second = row(2);
    second.order_no = "0012345".into();
    second.province = "北京市".into();
    second.city = "北京市".into();
    second.district = "朝阳区".into();
    second.detail = "建国路1号".into();
    let bytes = write_batch(&layout, &c, Courier::Sf, &[row(1), second]).unwrap();
    let mut wb = open(&bytes);
    assert_eq!(wb.sheet_names(), ["Sheet1"]);
    let range = wb.worksheet_range("Sheet1").unwrap();
    let at = |r: u32, col: usize| {
        range
            .get_value((r, col as u32))
            .cloned()
            .unwrap_or(Data::Empty)
    };
    // Row 1: the group headings, merged over 7–10, 11–14, 15–20, 21–57.
    assert_eq!(at(0, 6), s("寄件方信息"));
    assert_eq!(at(0, 10), s("收件方信息"));
    assert_eq!(at(0, 14), s("商品信息"));
    assert_eq!(at(0, 20), s("发货信息"));
    assert_eq!(at(0, 0), Data::Empty);
    let mut merged = wb.merge_cells_by_sheet_name("Sheet1").unwrap();
    merged.sort_by_key(|d| d.start);
    let spans: Vec<_> = merged.iter().map(|d| (d.start, d.end)).collect();
    assert_eq!(
        spans,
        [
            ((0, 6), (0, 9)),
            ((0, 10), (0, 13)),
            ((0, 14), (0, 19)),
            ((0, 20), (0, 56))
        ]
    );
    // Row 2: the headers in order.
    for (i, col) in layout.columns.iter().enumerate() {
        assert_eq!(at(1, i), s(&col.header), "header {}", i + 1);
    }
    // Row 3 on: every written cell is text; the others are empty.
    let want: Vec<(usize, &str)> = vec![
        (1, "1"),
        (2, "WT202611250001"),
        (7, "深圳某CA有限公司"),
        (8, "王五"),
        (9, "0755-88886666"),
        (10, "广东省深圳市福田区深南大道1号"),
        (12, "张三"),
        (13, "13800138000"),
        (14, "广东省深圳市南山区科技园路1号"),
        (15, "USB Key"),
        (17, "1"),
        (21, "1"),
        (22, "顺丰标快"),
        (23, "寄付月结"),
        (24, "0755123456"),
        (25, "0.2"),
    ];
    for col in 1..=57 {
        let expected = want
            .iter()
            .find(|(c, _)| *c == col)
            .map(|(_, v)| s(v))
            .unwrap_or(Data::Empty);
        assert_eq!(
            at(2, col - 1),
            expected,
            "row 3, column {col} ({})",
            layout.columns[col - 1].header
        );
    }
    assert_eq!(at(3, 0), s("2"));
    assert_eq!(at(3, 1), s("0012345"), "leading zeros kept");
    assert_eq!(at(3, 13), s("北京市朝阳区建国路1号"));
    assert_eq!(at(4, 1), Data::Empty);
    // The same rows give the same bytes.
    assert_eq!(
        write_batch(&layout, &c, Courier::Sf, &[row(1), row(2)]).unwrap(),
        write_batch(&layout, &c, Courier::Sf, &[row(1), row(2)]).unwrap()
    );
}

#[test]
fn the_other_layouts() {
    let user = CourierLayout::from_toml(include_str!("../../../reports/couriers/sf-user-44.toml"))
        .unwrap();
    let bytes = write_batch(&user, &cfg(), Courier::Sf, &[row(1)]).unwrap();
    let mut wb = open(&bytes);
    let range = wb.worksheet_range("Sheet1").unwrap();
    let at = |h: &str, r: u32| {
        let c = user.find(h).unwrap() as u32;
        range.get_value((r, c)).cloned().unwrap_or(Data::Empty)
    };
    assert_eq!(at("用户订单号", 0), s("用户订单号"));
    assert_eq!(at("用户订单号", 1), s("WT202611250001"));
    assert_eq!(at("收件手机", 1), s("13800138000"));
    assert_eq!(at("收件电话", 1), Data::Empty, "for a landline");
    assert_eq!(at("收件详细地址", 1), s("广东省深圳市南山区科技园路1号"));
    assert_eq!(at("运费付款方式", 1), s("寄付月结"));
    assert_eq!(at("件数", 1), s("1"));
    assert!(wb.merge_cells_by_sheet_name("Sheet1").unwrap().is_empty());

    let ems = CourierLayout::shipped(Courier::Ems);
    let bytes = write_batch(&ems, &cfg(), Courier::Ems, &[row(1)]).unwrap();
    let mut wb = open(&bytes);
    let range = wb.worksheet_range("Sheet1").unwrap();
    let got: Vec<Data> = (0..19)
        .map(|c| range.get_value((1, c)).cloned().unwrap_or(Data::Empty))
        .collect();
    let want = [
        "WT202611250001",
        "张三",
        "13800138000",
        "广东省",
        "深圳市",
        "南山区",
        "科技园路1号",
        "518057",
        "王五",
        "0755-88886666",
        "广东省",
        "深圳市",
        "福田区",
        "深南大道1号",
        "518000",
        "USB Key",
        "1",
        "",
        "",
    ];
    let want: Vec<Data> = want
        .iter()
        .map(|v| if v.is_empty() { Data::Empty } else { s(v) })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn what_the_export_refuses() {
    let sf = CourierLayout::shipped(Courier::Sf);
    // A layout without a column the mapping needs: named.
    let text = include_str!("../../../reports/couriers/sf.toml").replace(
        r#"{ header = "收方联系方式", source = "recipient.mobile", required = true },"#,
        r#"{ header = "收方联系方式" },"#,
    );
    let lacking = CourierLayout::from_toml(&text).unwrap();
    let e = write_batch(&lacking, &cfg(), Courier::Sf, &[row(1)]).unwrap_err();
    assert_eq!(
        e,
        CourierError::MissingColumn {
            layout: "sf-standard-57".into(),
            header: "收方联系方式".into(),
            field: "recipient.mobile".into()
        }
    );
    // Weight set, but the layout has no weight column.
    let text =
        include_str!("../../../reports/couriers/sf.toml").replace(r#"source = "weight_kg""#, "");
    let no_weight = CourierLayout::from_toml(&text).unwrap();
    let mut c = cfg();
    c.weight_kg = Some("0.2".into());
    assert!(
        write_batch(&no_weight, &c, Courier::Sf, &[row(1)])
            .unwrap_err()
            .to_string()
            .contains("包裹重量/KG")
    );
    // Settings a required column needs.
    let mut c = cfg();
    c.sender.name.clear();
    let e = write_batch(&sf, &c, Courier::Sf, &[row(1)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "courier settings: column 寄方姓名 needs courier.sender.name"
    );
    let mut c = cfg();
    c.sf.monthly_account.clear();
    let e = write_batch(&sf, &c, Courier::Sf, &[row(1)]).unwrap_err();
    assert!(e.to_string().contains("courier.sf.monthly_account"), "{e}");
    c.sf.payment = "寄付现结".into();
    assert!(write_batch(&sf, &c, Courier::Sf, &[row(1)]).is_ok());
    // sf-user-44 has no account column: none needed.
    let user = CourierLayout::from_toml(include_str!("../../../reports/couriers/sf-user-44.toml"))
        .unwrap();
    c.sf.payment = "寄付月结".into();
    assert!(write_batch(&user, &c, Courier::Sf, &[row(1)]).is_ok());
    // Bad or repeated rows, the wrong courier.
    let mut bad = row(2);
    bad.recipient_mobile = "123".into();
    let e = write_batch(&sf, &cfg(), Courier::Sf, &[row(1), bad]).unwrap_err();
    assert!(
        matches!(&e, CourierError::Row { order_no, .. } if order_no == "WT202611250002"),
        "{e}"
    );
    let e = write_batch(&sf, &cfg(), Courier::Sf, &[row(1), row(1)]).unwrap_err();
    assert!(e.to_string().contains("appears twice"));
    let e = write_batch(&sf, &cfg(), Courier::Ems, &[row(1)]).unwrap_err();
    assert!(e.to_string().contains("is for SF, not EMS"));
}

#[test]
fn ten_thousand_rows() {
    let rows: Vec<ShipmentRow> = (1..=10_000)
        .map(|i| ShipmentRow {
            order_no: format!("WT20261125{i:05}"),
            ..row(1)
        })
        .collect();
    let layout = CourierLayout::shipped(Courier::Sf);
    // Its time is measured in benches/couriers.rs, not bounded here.
    let bytes = write_batch(&layout, &cfg(), Courier::Sf, &rows).unwrap();
    let mut wb = open(&bytes);
    let range = wb.worksheet_range("Sheet1").unwrap();
    assert_eq!(range.get_value((10_001, 1)), Some(&s("WT2026112510000")));
    assert_eq!(range.get_value((10_001, 0)), Some(&s("10000")));
}

// ---- tracking -------------------------------------------------------------------------------

enum V<'a> {
    T(&'a str),
    N(f64),
    D(&'a str),
}

/// A courier export: `title` rows above the header, then the rows.
fn export(title: usize, headers: &[&str], rows: &[Vec<V>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for t in 0..title {
        ws.write_string(t as u32, 0, "顺丰速运 运单导出").unwrap();
    }
    let h = title as u32;
    for (c, v) in headers.iter().enumerate() {
        ws.write_string(h, c as u16, *v).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = h + 1 + r as u32;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                V::T("") => {}
                V::T(t) => {
                    ws.write_string(r, c, *t).unwrap();
                }
                V::N(n) => {
                    ws.write_number(r, c, *n).unwrap();
                }
                V::D(d) => {
                    let t = ExcelDateTime::parse_from_str(d).unwrap();
                    ws.write_datetime_with_format(r, c, &t, &date).unwrap();
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, sec: u32) -> DateTime<Utc> {
    beijing()
        .with_ymd_and_hms(y, m, d, h, min, sec)
        .unwrap()
        .with_timezone(&Utc)
}

fn rows_error(e: TrackingError) -> Vec<RowError> {
    match e {
        SheetError::Rows(r) => r,
        other => panic!("{other}"),
    }
}

#[test]
fn an_xlsx_export_under_a_title_row() {
    let bytes = export(
        1,
        &["序号", "订单号", "运单号", "寄件时间", "快递公司"],
        &[
            vec![
                V::N(1.0),
                V::T("WT202611250001"),
                V::T(" sf1234567890123 "),
                V::D("2026-11-26 09:30:00"),
                V::T("顺丰速运"),
            ],
            vec![
                V::N(2.0),
                V::T("WT202611250002"),
                V::N(123456789012.0),
                V::T("2026/11/26 10:05"),
                V::T(""),
            ],
            vec![
                V::N(3.0),
                V::T("WT202611250003"),
                V::T("SF1234567890125"),
                V::T(""),
                V::T("SF"),
            ],
        ],
    );
    let rows = read_tracking(&bytes).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        TrackingRow {
            row: 3,
            order_no: "WT202611250001".into(),
            waybill: "SF1234567890123".into(),
            shipped_at: Some(at(2026, 11, 26, 9, 30, 0)),
            courier: Some(Courier::Sf),
        }
    );
    assert_eq!(rows[1].waybill, "123456789012", "a number cell, exact");
    assert_eq!(rows[1].shipped_at, Some(at(2026, 11, 26, 10, 5, 0)));
    assert_eq!(rows[1].courier, None);
    assert_eq!((rows[2].row, rows[2].shipped_at), (5, None));
}

#[test]
fn the_batch_layout_with_waybills_filled() {
    // The courier's export may keep the batch layout: group row 1, headers in row 2.
    let layout = CourierLayout::shipped(Courier::Sf);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.merge_range(0, 6, 0, 9, "寄件方信息", &Format::new())
        .unwrap();
    for (c, col) in layout.columns.iter().enumerate() {
        ws.write_string(1, c as u16, &col.header).unwrap();
    }
    ws.write_string(2, 0, "1").unwrap();
    ws.write_string(2, 1, "WT202611250001").unwrap();
    ws.write_string(2, 2, "SF1234567890123").unwrap();
    let rows = read_tracking(&wb.save_to_buffer().unwrap()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].row, rows[0].order_no.as_str()),
        (3, "WT202611250001")
    );
    assert_eq!(rows[0].waybill, "SF1234567890123");
    // The batch file as written (no waybills yet) is refused, naming the cell.
    let bytes = write_batch(&layout, &cfg(), Courier::Sf, &[row(1)]).unwrap();
    let e = rows_error(read_tracking(&bytes).unwrap_err());
    assert_eq!(
        (e[0].row, e[0].column.as_str(), e[0].message.as_str()),
        (3, "C (运单号)", "is empty")
    );
}

#[test]
fn a_gbk_csv_with_other_headers() {
    let text = "用户订单号,快递单号,揽收时间,物流公司\r\n\
                WT202611250001,ea123456789cn,2026-11-26 09:30:15,中国邮政\r\n\
                \r\n\
                WT202611250002,1234567890123,2026-11-26T10:00:00+08:00,EMS\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let rows = read_tracking(&gbk).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].waybill, "EA123456789CN");
    assert_eq!(rows[0].shipped_at, Some(at(2026, 11, 26, 9, 30, 15)));
    assert_eq!(rows[0].courier, Some(Courier::Ems));
    assert_eq!(rows[1].row, 4, "the blank line counts");
    assert_eq!(rows[1].shipped_at, Some(at(2026, 11, 26, 10, 0, 0)));
    // UTF-8 with a BOM, 运单号 preferred over 母单号.
    let text = "\u{feff}订单编号,母单号,运单号\nWT1,SF1,SF2\n";
    let rows = read_tracking(text.as_bytes()).unwrap();
    assert_eq!(rows[0].waybill, "SF2");
}

#[test]
fn malformed_files_are_refused_naming_row_and_column() {
    let h = ["订单号", "运单号", "发货时间", "承运商"];
    let good = || {
        vec![
            V::T("WT1"),
            V::T("SF1234567890123"),
            V::T("2026-11-26 09:30"),
            V::T("顺丰"),
        ]
    };
    let cases: Vec<(usize, V, usize, &str, &str)> = vec![
        (0, V::T(""), 2, "A (订单号)", "is empty"),
        (1, V::T(""), 2, "B (运单号)", "is empty"),
        (1, V::T("1.23457E+14"), 2, "B (运单号)", "exponent form"),
        (1, V::N(1.5), 2, "B (运单号)", "lost digits"),
        (
            2,
            V::T("26.11.2026"),
            2,
            "C (发货时间)",
            "'26.11.2026' is not a time",
        ),
        (2, V::T("2026-11-26"), 2, "C (发货时间)", "is not a time"),
        (
            3,
            V::T("圆通"),
            2,
            "D (承运商)",
            "'圆通' is not a known courier",
        ),
    ];
    for (col, v, row, column, message) in cases {
        let mut bad = good();
        bad[col] = v;
        let bytes = export(0, &h, &[bad, good()]);
        let e = rows_error(read_tracking(&bytes).unwrap_err());
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!((e[0].row, e[0].column.as_str()), (row, column));
        assert!(
            e[0].message.contains(message),
            "{} / {message}",
            e[0].message
        );
    }
    // All errors are collected, in CSV as well.
    let csv =
        "订单号,运单号,寄件时间\nWT1,,\n,SF1234567890123,2026-11-26 9:30\nWT3,SF1,yesterday\n";
    let e = rows_error(read_tracking(csv.as_bytes()).unwrap_err());
    let at: Vec<(usize, &str)> = e.iter().map(|e| (e.row, e.column.as_str())).collect();
    assert_eq!(
        at,
        [(2, "B (运单号)"), (3, "A (订单号)"), (4, "C (寄件时间)")]
    );
    assert_eq!(e[0].to_string(), "row 2, column B (运单号): is empty");
    // No header row in rows 1–5.
    let late = export(5, &h, &[good()]);
    let e = read_tracking(&late).unwrap_err();
    assert!(
        matches!(&e, SheetError::MissingColumn(m) if m.contains("rows 1–5")),
        "{e}"
    );
    let e = read_tracking("订单号,单号\nWT1,SF1\n".as_bytes()).unwrap_err();
    assert!(
        matches!(&e, SheetError::MissingColumn(m) if m.starts_with("运单号/运单号码")),
        "{e}"
    );
    let e = read_tracking("order,waybill\nWT1,SF1\n".as_bytes()).unwrap_err();
    assert!(
        e.to_string()
            .contains("订单号/用户订单号/客户订单号/订单编号 with 运单号"),
        "{e}"
    );
    assert!(matches!(
        read_tracking(b"PK\x03\x04garbage"),
        Err(SheetError::Unreadable(_))
    ));
    // A header with no rows under it: nothing to import.
    assert_eq!(read_tracking("订单号,运单号\n".as_bytes()).unwrap(), []);
}

#[test]
fn a_hundred_thousand_rows() {
    let mut csv = String::from("订单号,运单号,寄件时间,快递公司\n");
    for i in 0..100_000 {
        csv.push_str(&format!(
            "WT2026{i:08},SF{:013},2026-11-26 09:30:00,顺丰\n",
            i
        ));
    }
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    // Its time is measured in benches/couriers.rs, not bounded here.
    let rows = read_tracking(&gbk).unwrap();
    assert_eq!(rows.len(), 100_000);
    assert_eq!(rows[99_999].row, 100_001);
    assert_eq!(rows[99_999].waybill, "SF0000000099999");
}
