//! The finance desk's tables: imported bills and their lines, the cases finance works through,
//! the applications' payment state.

mod bills;
mod cases;
mod line_rows;
mod payments;

pub use bills::*;
pub use cases::*;
pub use line_rows::*;
pub use payments::*;

use super::Tx;

/// Rows per multi-row statement: under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 400;

/// Values per statement for the large reconciliation look-ups and inserts: fewer round trips,
/// still under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const BIG_CHUNK: usize = 4000;

/// The placeholder of value `k` in a statement written with [`marks`]: `?` on SQLite, `$k` on
/// PostgreSQL.
fn mark(tx: &Tx, k: usize) -> String {
    match tx {
        Tx::Sqlite(_) => "?".into(),
        Tx::Postgres(_) => format!("${k}"),
    }
}

/// Placeholders for `n` values from the `first`-th, for statements of thousands of values. On
/// SQLite they are anonymous `?` (bound in order): SQLite finds a numbered or named parameter by
/// a linear search, once per bind, so a statement of 24,000 `$n` spent a second and a half
/// binding. Every placeholder of such a statement must then come from here or [`mark`].
fn marks(tx: &Tx, first: usize, n: usize) -> String {
    match tx {
        Tx::Sqlite(_) => {
            let mut s = String::with_capacity(n * 3);
            for i in 0..n {
                s.push_str(if i == 0 { "?" } else { ", ?" });
            }
            s
        }
        Tx::Postgres(_) => placeholders(first, n),
    }
}

/// `$first, $first+1, …` for `n` values.
pub fn placeholders(first: usize, n: usize) -> String {
    let mut s = String::with_capacity(n * 5);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('$');
        s.push_str(&(first + i).to_string());
    }
    s
}
