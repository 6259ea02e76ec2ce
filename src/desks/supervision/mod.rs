//! The supervision desk's work: the dashboard's figures, and the reports defined under
//! `reports/` run for a period.

mod dashboard;
mod reports;

pub use dashboard::dashboard;
pub use reports::{
    MAX_ROWS, ReportingError, SOURCES, csv, day_of_number, day_start, definition, each_row, page,
    previous_month, rows, titled, xlsx,
};
