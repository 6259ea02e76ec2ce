//! `sheet` within its budgets: the sparse bomb refused before any grid is laid out, each budget
//! naming its limit and place, legacy workbooks refused, and the multi-byte ISO date cell.

use super::*;
use crate::exchange::budget::OverBudget;

#[test]
fn an_iso_date_cell_with_a_multibyte_character_at_byte_10_is_text() {
    // `&s[..10]` cut inside 中 and panicked.
    let c = cell_of(&Data::DateTimeIso("2026-10-0中".into()));
    assert_eq!(c, Cell::Text("2026-10-0中".into()));
    let c = cell_of(&Data::DateTimeIso("2026-10-01T00:00:00".into()));
    assert_eq!(c, Cell::Date(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
}

fn xlsx_of(dimension: &str, cells: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let body: String = cells
        .iter()
        .map(|(at, v)| {
            let row: String = at.chars().filter(char::is_ascii_digit).collect();
            format!(r#"<row r="{row}"><c r="{at}" t="inlineStr"><is><t>{v}</t></is></c></row>"#)
        })
        .collect();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for (name, text) in [
        (
            "_rels/.rels",
            format!(
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                r#"<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                r#"<worksheet xmlns="{main}"><dimension ref="{dimension}"/><sheetData>{body}</sheetData></worksheet>"#
            ),
        ),
    ] {
        w.start_file(name, o).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn over(r: Result<Sheet, SheetError>) -> OverBudget {
    match r {
        Err(SheetError::Over(o)) => o,
        other => panic!("not refused over a budget: {other:?}"),
    }
}

#[test]
fn the_sparse_bomb_is_refused_before_any_grid_is_laid_out() {
    use budget::Limit;
    let b = FileBudgets::default();
    let cells = [("A1", "日期"), ("XFD1048576", "x")];
    // Declared: refused before a cell is read.
    let o = over(read_with(&xlsx_of("A1:XFD1048576", &cells), &b));
    assert_eq!(
        (o.limit, o.row, o.column.as_deref()),
        (Limit::Rows, Some(1_048_576), Some("XFD"))
    );
    assert!(o.to_string().contains("BACKOFFICE_FILE_MAX_ROWS"), "{o}");
    // The dimension lies (A1): the real cell is refused as it comes.
    let o = over(read_with(&xlsx_of("A1", &cells), &b));
    assert_eq!((o.limit, o.row), (Limit::Rows, Some(1_048_576)));
    // Far right in row 1: the column budget.
    let o = over(read_with(&xlsx_of("A1", &[("A1", "a"), ("XFD1", "b")]), &b));
    assert_eq!(
        (o.limit, o.column.as_deref()),
        (Limit::Columns, Some("XFD"))
    );
    // A lying dimension on a small file is no reason to refuse it.
    let s = read_with(
        &xlsx_of("A1", &[("A1", "日期"), ("B1", "类型"), ("B3", "放假")]),
        &b,
    )
    .unwrap();
    assert_eq!(s.headers, vec!["日期", "类型"]);
    assert_eq!(
        (s.rows[0].number, &s.rows[0].cells[1]),
        (3, &Cell::Text("放假".into()))
    );
}

#[test]
fn each_sheet_budget_names_its_limit_and_place() {
    use budget::Limit;
    let small = FileBudgets {
        max_rows: 3,
        max_columns: 3,
        max_cells: 7,
        max_cell_bytes: 8,
        ..FileBudgets::default()
    };
    let o = over(read_with(b"a,b\n1,2\n3,4\n5,6\n", &small));
    assert_eq!((o.limit, o.row), (Limit::Rows, Some(4)));
    let o = over(read_with(b"a,b,c,d\n", &small));
    assert_eq!(
        (o.limit, o.row, o.column.as_deref()),
        (Limit::Columns, Some(1), Some("D"))
    );
    let o = over(read_with(b"a,b,c\n1,2,3\n4,5,6\n", &small));
    assert_eq!((o.limit, o.row), (Limit::Cells, Some(3)));
    let o = over(read_with("a,b\n1,一二三\n".as_bytes(), &small));
    assert_eq!(
        (o.limit, o.row, o.column.as_deref()),
        (Limit::CellBytes, Some(2), Some("B"))
    );
    let o = over(read_with(
        &xlsx_of("A1", &[("A1", "a"), ("B2", "123456789")]),
        &small,
    ));
    assert_eq!(
        (o.limit, o.row, o.column.as_deref()),
        (Limit::CellBytes, Some(2), Some("B"))
    );
    let o = over(read_with(
        &xlsx_of("A1", &[("A1", "a"), ("C3", "b"), ("C4", "c")]),
        &small,
    ));
    assert_eq!(o.limit, Limit::Rows);
    let o = over(read_with(
        &xlsx_of("A1", &[("C1", "a"), ("C2", "b"), ("C3", "c")]),
        &small,
    ));
    assert_eq!((o.limit, o.row), (Limit::Cells, Some(3)));
    // The message: Chinese first, then English, the setting named.
    let m = o.to_string();
    assert!(
        m.starts_with("文件超出限制：单元格数超过 7 个（第 3 行 C 列）"),
        "{m}"
    );
    assert!(
        m.contains(" / The file is over a limit: more than 7 cells (row 3, column C)"),
        "{m}"
    );
    assert!(m.contains("BACKOFFICE_FILE_MAX_CELLS"), "{m}");
    // Within the budgets the same shapes read.
    assert_eq!(read_with(b"a,b\n1,2\n3,4\n", &small).unwrap().rows.len(), 2);
}

#[test]
fn legacy_workbooks_are_refused_with_a_way_out() {
    let ole = [&[0xD0, 0xCF, 0x11, 0xE0][..], &[0; 600]].concat();
    let Err(SheetError::Unreadable(m)) = read(&ole) else {
        panic!("read")
    };
    assert!(m.contains(".xlsx") && m.contains("另存为"), "{m}");
}
