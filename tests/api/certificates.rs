//! The certificate registry import from real xlsx files and CSV (UTF-8 and GBK).

use crate::both;
use crate::helpers::*;
use backoffice::domain::serial::CertificateSerial;
use backoffice::exchange::certificates::import;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// A registry export as the CA's system writes it: Chinese headers, date cells, a note column.
pub fn registry_xlsx(rows: &[[&str; 6]], bad_date_row: Option<usize>) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in [
        "证书序列号",
        "持有人姓名",
        "证件类型",
        "证件号码",
        "证书类型",
        "生效日期",
        "失效日期",
        "状态",
        "备注",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (c, v) in r[..4].iter().enumerate() {
            ws.write_string(row, c as u16, *v).unwrap();
        }
        ws.write_string(row, 4, r[4]).unwrap();
        if bad_date_row == Some(i) {
            ws.write_string(row, 5, "2024年3月1日").unwrap();
        } else {
            ws.write_datetime_with_format(
                row,
                5,
                ExcelDateTime::from_ymd(2024, 3, 1).unwrap(),
                &date,
            )
            .unwrap();
        }
        ws.write_datetime_with_format(row, 6, ExcelDateTime::from_ymd(2027, 2, 28).unwrap(), &date)
            .unwrap();
        ws.write_string(row, 7, r[5]).unwrap();
        ws.write_string(row, 8, "网厅导出").unwrap();
    }
    wb.save_to_buffer().unwrap()
}

async fn registry_import_from_xlsx_is_all_or_nothing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let before = app.storage.certificate_count().await.unwrap();
    let rows = [
        [
            "0AA1",
            "赵六",
            "居民身份证",
            "44030519850615432X",
            "自然人证书",
            "有效",
        ],
        [
            "0AA2",
            "钱七",
            "港澳居民来往内地通行证",
            "H87654321",
            "自然人证书",
            "已吊销",
        ],
        // Re-importing a known serial updates it.
        [
            "0150512140479054C03",
            "张三",
            "居民身份证",
            "11010519491231002X",
            "自然人证书",
            "有效",
        ],
    ];
    let summary = import(&app.storage, &registry_xlsx(&rows, None), "test", 1)
        .await
        .unwrap();
    assert_eq!(summary.rows, 3);
    assert_eq!(app.storage.certificate_count().await.unwrap(), before + 2);
    let c = app
        .storage
        .certificate(&CertificateSerial::parse("0aa2").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.holder.number(), "H87654321");
    assert_eq!(c.valid_from.to_string(), "2024-03-01");
    assert_eq!(c.valid_to.to_string(), "2027-02-28");
    let updated = app
        .storage
        .certificate(&CertificateSerial::parse("0150512140479054C03").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.valid_to.to_string(), "2027-02-28");

    // One bad cell refuses the whole file, naming row and column; nothing changes.
    let audit_before = app.storage.audit_count().await.unwrap();
    let more = [
        [
            "0BB1",
            "孙八",
            "居民身份证",
            "44030519850615432X",
            "自然人证书",
            "有效",
        ],
        [
            "0BB2",
            "周九",
            "居民身份证",
            "44030519850615432X",
            "自然人证书",
            "有效",
        ],
    ];
    let err = import(&app.storage, &registry_xlsx(&more, Some(1)), "test", 2)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "row 3, column F (生效日期): '2024年3月1日' is not a date (YYYY-MM-DD)"
    );
    let bad_id = [[
        "0BB3",
        "吴十",
        "居民身份证",
        "440305198506154321",
        "自然人证书",
        "有效",
    ]];
    let err = import(&app.storage, &registry_xlsx(&bad_id, None), "test", 2)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("row 2, column D (证件号码): the check character is wrong"),
        "{err}"
    );
    assert_eq!(app.storage.certificate_count().await.unwrap(), before + 2);
    assert!(
        app.storage
            .certificate(&CertificateSerial::parse("0BB1").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(app.storage.audit_count().await.unwrap(), audit_before);
}

async fn registry_import_from_gbk_csv(b: Backend) {
    let app = TestApp::spawn(b).await;
    let csv = "证书序列号,持有人姓名,证件类型,证件号码,证书类型,生效日期,失效日期,状态\r\n\
               0CC1,欧阳娜娜,居民身份证,44030519850615432X,自然人证书,2025/01/02,2028/01/01,有效\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    import(&app.storage, &gbk, "test", 1).await.unwrap();
    let c = app
        .storage
        .certificate(&CertificateSerial::parse("0CC1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.holder_name, "欧阳娜娜");
    assert_eq!(c.valid_from.to_string(), "2025-01-02");
}

both!(
    registry_import_from_xlsx_is_all_or_nothing,
    registry_import_from_gbk_csv
);
