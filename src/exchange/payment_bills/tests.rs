//! Tests of the bill readers on the sample bills, their archives and damaged copies.

use super::*;
use crate::exchange::budget::{ArchiveError, FileBudgets, Limit, Unpacked};

const WECHAT: &[u8] = include_bytes!("../../../tests/api/fixtures/wechat-tradebill-sample.csv");
const ALIPAY: &[u8] =
    include_bytes!("../../../tests/api/fixtures/alipay-business-detail-sample.csv");

#[test]
fn the_wechat_sample() {
    let b = parse(WECHAT).unwrap();
    assert_eq!(b.channel, PaymentChannel::Wechat);
    assert_eq!(b.lines.len(), 13);
    let refunds: Vec<_> = b
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Refund)
        .collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount, Fen::new(20000));
    assert!(refunds[0].refund_no.is_some());
    assert!(b.lines.iter().all(|l| l.out_trade_no.starts_with("SZCA")));
    assert_eq!(
        b.lines
            .iter()
            .filter(|l| l.kind == LineKind::Payment)
            .map(|l| l.amount.get())
            .sum::<i64>(),
        230_000
    );
}

#[test]
fn the_alipay_sample_in_gbk() {
    let b = parse(ALIPAY).unwrap();
    assert_eq!(b.channel, PaymentChannel::Alipay);
    assert_eq!(
        b.period,
        (
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        )
    );
    assert_eq!(
        b.lines
            .iter()
            .filter(|l| l.kind == LineKind::Payment)
            .count(),
        12
    );
    assert_eq!(
        b.lines
            .iter()
            .filter(|l| l.kind == LineKind::Refund)
            .count(),
        1
    );
    assert!(b.lines.iter().all(|l| !l.transaction_id.ends_with('\t')));
}

#[test]
fn truncated_and_edited_files_are_refused() {
    let text = String::from_utf8(WECHAT.to_vec()).unwrap();
    let cut: String = text.lines().take(10).collect::<Vec<_>>().join("\n");
    assert!(
        parse(cut.as_bytes())
            .unwrap_err()
            .message
            .contains("truncated")
    );
    let edited = text.replacen("`2300.00", "`2500.00", 1);
    let e = parse(edited.as_bytes()).unwrap_err();
    assert_eq!(e.column.as_deref(), Some("应结订单总金额"), "{e}");
    let broken = text.replacen("`200.00,`0.00,`", "`2.0E+2,`0.00,`", 1);
    let e = parse(broken.as_bytes()).unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("spreadsheet"), "{e}");
    assert!(parse(b"hello").is_err());
}

/// Builds a zip in memory; a name given as bytes is stored as is (no UTF-8 flag).
fn zip_of(members: &[(&[u8], &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let opts = zip::write::SimpleFileOptions::default();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut patches = Vec::new();
    for (i, (name, data)) in members.iter().enumerate() {
        match std::str::from_utf8(name) {
            Ok(n) if n.is_ascii() => w.start_file(n, opts).unwrap(),
            _ => {
                // An ASCII stand-in of the same length, replaced by the raw bytes afterwards.
                let stand_in: String =
                    std::iter::repeat_n((b'Q' + i as u8) as char, name.len()).collect();
                w.start_file(stand_in.clone(), opts).unwrap();
                patches.push((stand_in.into_bytes(), name.to_vec()));
            }
        }
        w.write_all(data).unwrap();
    }
    let mut out = w.finish().unwrap().into_inner();
    for (from, to) in patches {
        let mut at = 0;
        while let Some(p) = out[at..].windows(from.len()).position(|x| x == from) {
            out[at + p..at + p + from.len()].copy_from_slice(&to);
            at += p + from.len();
        }
    }
    out
}

#[test]
fn a_zip_of_several_days() {
    let day2 = String::from_utf8(WECHAT.to_vec())
        .unwrap()
        .replace("2026-11-03", "2026-11-04");
    let z = zip_of(&[
        (b"1612345678All2026-11-03.csv", WECHAT),
        (b"1612345678All2026-11-04.csv", day2.as_bytes()),
        (b"alipay.csv", ALIPAY),
    ]);
    let bills = parse_any(&z).unwrap();
    assert_eq!(bills.len(), 3);
    let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    assert_eq!(bills[0].period, (day(3), day(3)));
    assert_eq!(bills[1].period, (day(4), day(4)));
    assert_eq!(bills[2].channel, PaymentChannel::Alipay);
}

#[test]
fn a_gzip_and_a_plain_file() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(WECHAT).unwrap();
    let gz = gz.finish().unwrap();
    let bills = parse_any(&gz).unwrap();
    assert_eq!(bills.len(), 1);
    assert_eq!(bills[0].lines.len(), 13);
    assert_eq!(parse_any(ALIPAY).unwrap().len(), 1);
    // A gzip inside a zip is opened too.
    assert_eq!(parse_any(&zip_of(&[(b"a.csv.gz", &gz)])).unwrap().len(), 1);
    assert!(parse_any(&gz[..gz.len() / 2]).is_err());
}

#[test]
fn the_alipay_api_zip_with_gbk_names_and_its_totals_member() {
    let account = "20881234567890120156_20261101";
    let (detail, totals_title) = (
        format!("{account}_业务明细.csv"),
        format!("{account}_业务明细(汇总).csv"),
    );
    let (detail_name, _, _) = encoding_rs::GBK.encode(&detail);
    let (totals_name, _, _) = encoding_rs::GBK.encode(&totals_title);
    let (totals, _, _) = encoding_rs::GBK.encode(
        "#支付宝业务汇总查询\r\n#账号：[20881234567890120156]\r\n门店编号,门店名称,交易订单总笔数\r\n",
    );
    let z = zip_of(&[(&detail_name, ALIPAY), (&totals_name, &totals)]);
    let bills = parse_any(&z).unwrap();
    assert_eq!(bills.len(), 1);
    assert_eq!(bills[0].channel, PaymentChannel::Alipay);
    // The names come back readable.
    let b = FileBudgets::default();
    let members = budget::zip_members(&z, &b, &mut Unpacked::new(&b)).unwrap();
    assert_eq!(members[0].name, format!("{account}_业务明细.csv"));
    // Only totals: no bill in the zip.
    let only_totals = zip_of(&[(&totals_name, &totals)]);
    assert!(parse_any(&only_totals).unwrap_err().message.contains("no"));
}

#[test]
fn an_error_inside_a_member_names_it() {
    let text = String::from_utf8(WECHAT.to_vec()).unwrap();
    let edited = text.replacen("`2300.00", "`2500.00", 1);
    let (name, _, _) = encoding_rs::GBK.encode("微信账单.csv");
    let z = zip_of(&[(b"ok.csv", WECHAT), (&name, edited.as_bytes())]);
    let e = parse_any(&z).unwrap_err();
    assert!(e.message.contains("member 2 (微信账单.csv)"), "{e}");
    assert_eq!(e.column.as_deref(), Some("应结订单总金额"), "{e}");
    let z = zip_of(&[(b"readme.txt", b"hello")]);
    assert!(parse_any(&z).unwrap_err().message.contains("readme.txt"));
}

#[test]
fn a_zip_bomb_is_refused() {
    let b = FileBudgets::default();
    let z = zip_of(&[(b"big.csv", &[b'a'; 5000])]);
    let e = budget::zip_members(&z, &b, &mut Unpacked(1000)).unwrap_err();
    assert!(
        matches!(e, ArchiveError::Over(ref o) if o.limit == Limit::UnpackedBytes),
        "{e}"
    );
    let mut left = Unpacked(10_000);
    assert_eq!(budget::zip_members(&z, &b, &mut left).unwrap().len(), 1);
    assert_eq!(left.0, 5000);
    // One member over its own budget, whatever is left in all.
    let small = FileBudgets {
        max_member_bytes: 4999,
        ..b
    };
    let e = parse_any_with(&z, &small).unwrap_err();
    assert!(
        e.message.contains("BACKOFFICE_FILE_MAX_MEMBER_BYTES"),
        "{e}"
    );
    // More members than allowed.
    let two = zip_of(&[(b"a.csv", WECHAT), (b"b.csv", WECHAT)]);
    let one = FileBudgets {
        max_zip_members: 1,
        ..b
    };
    let e = parse_any_with(&two, &one).unwrap_err();
    assert!(e.message.contains("BACKOFFICE_FILE_MAX_ZIP_MEMBERS"), "{e}");
    assert_eq!(parse_any_with(&two, &b).unwrap().len(), 2);
}

#[test]
fn a_stream_reads_as_the_bytes_do() {
    use std::io::Cursor;
    let bills = parse_any_reader(Cursor::new(WECHAT)).unwrap();
    assert_eq!(bills, vec![parse(WECHAT).unwrap()]);
    // LF instead of CRLF, blank lines, no final newline: the same lines, other numbers.
    let text = String::from_utf8(WECHAT.to_vec())
        .unwrap()
        .replace("\r\n", "\n")
        .replace('\u{feff}', "");
    let spaced = format!("\n{}", text.trim_end().replacen('\n', "\n\n", 2));
    let b = parse(spaced.as_bytes()).unwrap();
    assert_eq!(b.lines.len(), 13);
    assert_eq!(b.lines.get(0).line, 4);
    assert_eq!(b.lines.get(1).line, 6);
    let first = parse(WECHAT).unwrap();
    fn strip(l: BillLine<'_>) -> BillLine<'_> {
        BillLine { line: 0, ..l }
    }
    assert!(b.lines.iter().map(strip).eq(first.lines.iter().map(strip)));
    // A gzip is unpacked in memory.
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(WECHAT).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(parse_any_reader(Cursor::new(gz)).unwrap(), bills);
}

#[test]
fn a_cut_line_is_told_as_truncation_and_a_broken_byte_by_its_line() {
    let cut = &WECHAT[..WECHAT.len() * 3 / 5];
    let e = parse(cut).unwrap_err();
    assert!(e.message.contains("truncated"), "{e}");
    let mut broken = WECHAT.to_vec();
    let at = broken.windows(4).position(|w| w == b"SZCA").unwrap();
    broken[at] = 0xFF;
    let e = parse(&broken).unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("UTF-8"), "{e}");
}
