//! The budgets every reader of an uploaded or imported file checks (`BACKOFFICE_FILE_*`); what
//! they guard and how a file over one is refused: `exchange::budget`.

/// The budgets; `BACKOFFICE_FILE_*` settings (see [`FileBudgets::from_env`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileBudgets {
    pub max_rows: u64,
    pub max_columns: u64,
    /// Cells a sheet may hold, counted as the grid is laid out (each row as wide as its last
    /// cell), so sparse cells far apart count as the blanks between them.
    pub max_cells: u64,
    pub max_cell_bytes: u64,
    /// One line of a payment bill.
    pub max_line_bytes: u64,
    pub max_zip_members: u64,
    /// What one zip or gzip member unpacks to.
    pub max_member_bytes: u64,
    /// What a whole file unpacks to, all members (and nested archives) together.
    pub max_unpacked_bytes: u64,
}

impl Default for FileBudgets {
    fn default() -> Self {
        FileBudgets {
            max_rows: 200_000,
            max_columns: 256,
            max_cells: 5_000_000,
            max_cell_bytes: 32 * 1024,
            max_line_bytes: 1024 * 1024,
            max_zip_members: 2_000,
            max_member_bytes: 256 * 1024 * 1024,
            max_unpacked_bytes: 512 * 1024 * 1024,
        }
    }
}

/// (setting, English name, Chinese name, unit)
pub(crate) const SETTINGS: [(&str, &str, &str, &str); 8] = [
    ("BACKOFFICE_FILE_MAX_ROWS", "rows", "行数", "行"),
    ("BACKOFFICE_FILE_MAX_COLUMNS", "columns", "列数", "列"),
    ("BACKOFFICE_FILE_MAX_CELLS", "cells", "单元格数", "个"),
    (
        "BACKOFFICE_FILE_MAX_CELL_BYTES",
        "bytes in one cell",
        "单个单元格字节数",
        "字节",
    ),
    (
        "BACKOFFICE_FILE_MAX_LINE_BYTES",
        "bytes in one line",
        "单行字节数",
        "字节",
    ),
    (
        "BACKOFFICE_FILE_MAX_ZIP_MEMBERS",
        "files in the zip",
        "压缩包内文件数",
        "个",
    ),
    (
        "BACKOFFICE_FILE_MAX_MEMBER_BYTES",
        "unpacked bytes of one zip member",
        "压缩包内单个文件解压后字节数",
        "字节",
    ),
    (
        "BACKOFFICE_FILE_MAX_UNPACKED_BYTES",
        "unpacked bytes in all",
        "解压后总字节数",
        "字节",
    ),
];

impl FileBudgets {
    /// Each budget from its `BACKOFFICE_FILE_*` setting, else its default; a value that is not
    /// a whole number ≥ 1 is refused.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<FileBudgets, String> {
        let d = FileBudgets::default();
        let get = |i: usize, def: u64| -> Result<u64, String> {
            let name = SETTINGS[i].0;
            match env(name) {
                None => Ok(def),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("{name} must be a whole number ≥ 1")),
            }
        };
        Ok(FileBudgets {
            max_rows: get(0, d.max_rows)?,
            max_columns: get(1, d.max_columns)?,
            max_cells: get(2, d.max_cells)?,
            max_cell_bytes: get(3, d.max_cell_bytes)?,
            max_line_bytes: get(4, d.max_line_bytes)?,
            max_zip_members: get(5, d.max_zip_members)?,
            max_member_bytes: get(6, d.max_member_bytes)?,
            max_unpacked_bytes: get(7, d.max_unpacked_bytes)?,
        })
    }
}
