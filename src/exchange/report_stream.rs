//! The report writers, row by row: rows are pushed as the database returns them and neither the
//! rows nor the sheet stay in memory. The xlsx uses rust_xlsxwriter's constant-memory worksheet:
//! each row goes to a temporary file once the next one starts, so rows must come in order (the
//! title, the header, the data, then the totals), and strings are written inline rather than
//! into the shared-string table (a larger file, but no table growing with the rows). A layout
//! with a `[chart]` gets a chart sheet after the data sheet.

use super::csv_cell::{neutralise, neutralised};
use super::reports::{
    ChartKind, ColumnFormat, ReportError, ReportLayout, Row, Value, display, excel_date,
    excel_datetime,
};
use rust_xlsxwriter::{
    Chart, ChartType, DocProperties, ExcelDateTime, Format, FormatBorder, Workbook,
};
use std::io::Write;

/// The running sums of the columns marked `total` (None for the others).
struct Totals(Vec<Option<i64>>);

impl Totals {
    fn new(layout: &ReportLayout) -> Totals {
        Totals(
            layout
                .columns
                .iter()
                .map(|c| c.total.then_some(0))
                .collect(),
        )
    }

    fn add(&mut self, layout: &ReportLayout, row: &Row) {
        for (sum, col) in self.0.iter_mut().zip(&layout.columns) {
            if let (Some(s), Some(Value::Int(n) | Value::Money(n))) =
                (sum.as_mut(), row.get(col.field.as_str()))
            {
                *s += n;
            }
        }
    }

    /// The totals row's cells: the sums, 合计 in the first column otherwise.
    fn cells(&self, layout: &ReportLayout) -> Vec<Value> {
        self.0
            .iter()
            .zip(&layout.columns)
            .enumerate()
            .map(|(i, (sum, col))| match (sum, col.format) {
                (Some(s), ColumnFormat::Money) => Value::Money(*s),
                (Some(s), _) => Value::Int(*s),
                (None, _) if i == 0 => Value::Text("合计".into()),
                (None, _) => Value::Empty,
            })
            .collect()
    }

    fn any(&self) -> bool {
        self.0.iter().any(Option::is_some)
    }
}

/// An xlsx report being written: [`XlsxReport::push`] each row, then [`XlsxReport::finish`].
pub struct XlsxReport<'a> {
    layout: &'a ReportLayout,
    wb: Workbook,
    top: u32,
    rows: u32,
    totals: Totals,
    formats: [Format; 4],
}

impl<'a> XlsxReport<'a> {
    /// The title and header rows, the widths.
    pub fn new(layout: &'a ReportLayout) -> Result<XlsxReport<'a>, ReportError> {
        let mut wb = Workbook::new();
        let fixed = ExcelDateTime::from_ymd(2026, 1, 1)?;
        wb.set_properties(&DocProperties::new().set_creation_datetime(&fixed));
        let ws = wb.add_worksheet_with_constant_memory()?;
        ws.set_name(&layout.sheet)?;
        let head = Format::new()
            .set_bold()
            .set_background_color("#E8ECF1")
            .set_border_bottom(FormatBorder::Thin);
        // With a title, the title is row 0 and the header row 1.
        let top = u32::from(layout.title.is_some());
        for (c, col) in layout.columns.iter().enumerate() {
            ws.set_column_width(c as u16, col.width)?;
        }
        if let Some(t) = &layout.title {
            ws.write_string_with_format(0, 0, t, &Format::new().set_bold().set_font_size(14))?;
        }
        for (c, col) in layout.columns.iter().enumerate() {
            ws.write_string_with_format(top, c as u16, &col.header, &head)?;
        }
        ws.set_freeze_panes(top + 1, 0)?;
        Ok(XlsxReport {
            layout,
            wb,
            top,
            rows: 0,
            totals: Totals::new(layout),
            formats: [
                Format::new().set_num_format("#,##0.00"),
                Format::new().set_num_format("yyyy-mm-dd"),
                Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
                Format::new().set_num_format("@"),
            ],
        })
    }

    fn write_cells<'v>(
        &mut self,
        r: u32,
        cells: impl Iterator<Item = &'v Value>,
        bold: Option<&Format>,
    ) -> Result<(), ReportError> {
        let ws = self.wb.worksheet_from_index(0)?;
        let [money, date, datetime, text] = &self.formats;
        for (c, v) in cells.enumerate() {
            let c = c as u16;
            match (v, bold) {
                (Value::Text(s), None) => {
                    ws.write_string_with_format(r, c, s, text)?;
                }
                (Value::Text(s), Some(b)) => {
                    ws.write_string_with_format(r, c, s, b)?;
                }
                (Value::Int(n), None) => {
                    ws.write_number(r, c, *n as f64)?;
                }
                (Value::Int(n), Some(b)) => {
                    ws.write_number_with_format(r, c, *n as f64, b)?;
                }
                (Value::Money(f), None) => {
                    ws.write_number_with_format(r, c, *f as f64 / 100.0, money)?;
                }
                (Value::Money(f), Some(b)) => {
                    let m = b.clone().set_num_format("#,##0.00");
                    ws.write_number_with_format(r, c, *f as f64 / 100.0, &m)?;
                }
                (Value::Date(d), _) => match excel_date(d) {
                    Some(x) => {
                        ws.write_datetime_with_format(r, c, &x, date)?;
                    }
                    None => {
                        ws.write_string(r, c, d)?;
                    }
                },
                (Value::Millis(ms), _) => {
                    if let Some(x) = excel_datetime(*ms) {
                        ws.write_datetime_with_format(r, c, &x, datetime)?;
                    }
                }
                (Value::Empty, Some(b)) => {
                    ws.write_blank(r, c, b)?;
                }
                (Value::Empty, None) => {}
            }
        }
        Ok(())
    }

    /// Writes the next data row; a field the row lacks is an empty cell.
    pub fn push(&mut self, row: &Row) -> Result<(), ReportError> {
        let r = self.top + 1 + self.rows;
        let layout = self.layout;
        self.write_cells(
            r,
            layout
                .columns
                .iter()
                .map(|c| row.get(c.field.as_str()).unwrap_or(&Value::Empty)),
            None,
        )?;
        self.totals.add(layout, row);
        self.rows += 1;
        Ok(())
    }

    /// The totals row, the filter over the data, the chart sheet; the file's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, ReportError> {
        let (top, rows, layout) = (self.top, self.rows, self.layout);
        if self.totals.any() {
            let bold = Format::new().set_bold().set_border_top(FormatBorder::Thin);
            let cells = self.totals.cells(layout);
            self.write_cells(top + 1 + rows, cells.iter(), Some(&bold))?;
        }
        let last_col = layout.columns.len().saturating_sub(1) as u16;
        self.wb
            .worksheet_from_index(0)?
            .autofilter(top, 0, rows + top, last_col)?;
        if let (Some(spec), true) = (&layout.chart, rows > 0) {
            let col = |field: &str| {
                layout
                    .columns
                    .iter()
                    .position(|c| c.field == field)
                    .map(|i| i as u16)
                    .ok_or_else(|| {
                        ReportError::Layout(
                            layout.sheet.clone(),
                            format!("chart: no column {field}"),
                        )
                    })
            };
            let mut chart = Chart::new(match spec.kind {
                ChartKind::Line => ChartType::Line,
                ChartKind::Column => ChartType::Column,
                ChartKind::Bar => ChartType::Bar,
            });
            chart.title().set_name(&spec.title);
            let (first, last) = (top + 1, top + rows);
            let cat = col(&spec.category)?;
            for field in &spec.values {
                let c = col(field)?;
                chart
                    .add_series()
                    .set_name(&layout.columns[c as usize].header)
                    .set_categories((layout.sheet.as_str(), first, cat, last, cat))
                    .set_values((layout.sheet.as_str(), first, c, last, c));
            }
            let cs = self.wb.add_chartsheet();
            cs.set_name(spec.sheet.as_deref().unwrap_or("图表"))?;
            cs.insert_chart(0, 0, &chart)?;
        }
        Ok(self.wb.save_to_buffer()?)
    }
}

/// A csv report being written: UTF-8 with a BOM, CRLF, the header, the rows, the totals row.
/// Every cell goes through `csv_cell::neutralise` (no cell starts a formula).
pub struct CsvReport<'a, W: Write> {
    layout: &'a ReportLayout,
    w: csv::Writer<W>,
    totals: Totals,
}

impl<'a, W: Write> CsvReport<'a, W> {
    pub fn new(layout: &'a ReportLayout, mut out: W) -> Result<CsvReport<'a, W>, ReportError> {
        out.write_all(b"\xEF\xBB\xBF")
            .map_err(|e| io_err(layout, e))?;
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        w.write_record(
            layout
                .columns
                .iter()
                .map(|c| neutralise(&c.header).into_owned()),
        )
        .map_err(|e| csv_err(layout, e))?;
        Ok(CsvReport {
            layout,
            w,
            totals: Totals::new(layout),
        })
    }

    pub fn push(&mut self, row: &Row) -> Result<(), ReportError> {
        let layout = self.layout;
        self.w
            .write_record(
                layout
                    .columns
                    .iter()
                    .map(|c| display(row.get(c.field.as_str()).unwrap_or(&Value::Empty)))
                    .map(neutralised),
            )
            .map_err(|e| csv_err(layout, e))?;
        self.totals.add(layout, row);
        Ok(())
    }

    /// The totals row (when the layout has one); the writer back.
    pub fn finish(mut self) -> Result<W, ReportError> {
        let layout = self.layout;
        if self.totals.any() {
            let cells = self.totals.cells(layout);
            self.w
                .write_record(cells.iter().map(|c| neutralised(display(c))))
                .map_err(|e| csv_err(layout, e))?;
        }
        self.w
            .into_inner()
            .map_err(|e| io_err(layout, e.into_error()))
    }
}

fn csv_err(layout: &ReportLayout, e: csv::Error) -> ReportError {
    ReportError::Layout(layout.sheet.clone(), e.to_string())
}

fn io_err(layout: &ReportLayout, e: std::io::Error) -> ReportError {
    ReportError::Layout(layout.sheet.clone(), e.to_string())
}
