//! Keyset paging shared by every list of the back office. A list is a `select` (its filter in
//! the `where`, no order, no limit) wrapped as a derived table `t`; a page is the rows after (or
//! before) a cursor in the list's key order, and one aggregate over the whole filter gives the
//! total count, the totals asked for and the position of the page. Pages cost the same at the
//! thousandth page as at the first, and no list stops silently.

use super::{DbResult, Pool, Storage, Tx, pauses};
use crate::on_tx;
use sqlx::Row;

/// Rows a page shows unless the request asks for another size.
pub const DEFAULT_SIZE: i64 = 50;
/// The largest page a request may ask for.
pub const MAX_SIZE: i64 = 500;

/// A value bound to a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    I(i64),
    S(String),
}

/// SQL with `$n` placeholders numbered as it is built, and its binds.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            binds: Vec::new(),
        }
    }

    /// Appends `clause`, each `?` in it becoming the next `$n` bound to the next of `binds`.
    pub fn push(&mut self, clause: &str, binds: impl IntoIterator<Item = Bind>) -> &mut Self {
        let mut parts = clause.split('?');
        self.text.push_str(parts.next().unwrap_or(""));
        let mut binds = binds.into_iter();
        for part in parts {
            let b = binds.next().expect("one bind per placeholder");
            self.binds.push(b);
            self.text.push_str(&format!("${}", self.binds.len()));
            self.text.push_str(part);
        }
        self
    }
}

/// Whether a key column holds integers or text (how a cursor's part is read back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
}

/// A list's order: key columns of `t`, the last (with the ones before) unique; all ascending or
/// all descending. Only the last key may be text.
#[derive(Debug, Clone, Copy)]
pub struct Order {
    pub keys: &'static [(&'static str, Kind)],
    pub desc: bool,
}

/// A row's position in its list's order, written into links as `after=`/`before=`.
pub trait Keyed {
    fn key(&self) -> Vec<Bind>;
}

/// The page asked for: after a cursor, before one, or the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageReq {
    pub after: Option<String>,
    pub before: Option<String>,
    pub size: i64,
}

impl PageReq {
    pub fn first(size: i64) -> Self {
        PageReq {
            size,
            ..Default::default()
        }
    }

    /// A request from query parameters; a size outside 1..=MAX_SIZE is the default size.
    pub fn new(after: Option<String>, before: Option<String>, size: Option<i64>) -> Self {
        let size = size
            .filter(|n| (1..=MAX_SIZE).contains(n))
            .unwrap_or(DEFAULT_SIZE);
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        PageReq {
            after: nonempty(after),
            before: nonempty(before),
            size,
        }
    }
}

/// One page of a list, with what the whole filter holds.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// Rows in the whole filter.
    pub total: i64,
    /// The totals asked for, over the whole filter.
    pub sums: Vec<i64>,
    /// How many rows of the filter come before this page.
    pub start: i64,
    /// Cursor of the previous page (`before=`), if there is one.
    pub prev: Option<String>,
    /// Cursor of the next page (`after=`), if there is one.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A list short enough to show whole (a row per day of a period, say).
    pub fn whole(rows: Vec<T>) -> Self {
        Page {
            total: rows.len() as i64,
            sums: Vec::new(),
            start: 0,
            prev: None,
            next: None,
            rows,
        }
    }

    /// The same page with each row turned into something else.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            rows: self.rows.into_iter().map(f).collect(),
            total: self.total,
            sums: self.sums,
            start: self.start,
            prev: self.prev,
            next: self.next,
        }
    }
}

/// A cursor as written in a link: the key's parts joined by `_`.
pub fn encode(key: &[Bind]) -> String {
    key.iter()
        .map(|b| match b {
            Bind::I(v) => v.to_string(),
            Bind::S(v) => v.clone(),
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// A cursor read back for `order`; None when it does not fit.
pub fn decode(order: &Order, cursor: &str) -> Option<Vec<Bind>> {
    let parts: Vec<&str> = cursor.splitn(order.keys.len(), '_').collect();
    if parts.len() != order.keys.len() {
        return None;
    }
    parts
        .iter()
        .zip(order.keys)
        .map(|(p, (_, kind))| match kind {
            Kind::Int => p.parse().ok().map(Bind::I),
            Kind::Text => Some(Bind::S((*p).to_owned())),
        })
        .collect()
}

/// `(k1, k2, …) op (v1, v2, …)` spelt out for both databases: `k1 op v1 or (k1 = v1 and …)`.
fn beyond(sql: &mut Sql, order: &Order, key: &[Bind], op: &str) {
    sql.push("(", []);
    for i in 0..order.keys.len() {
        if i > 0 {
            sql.push(" or ", []);
        }
        sql.push("(", []);
        for (j, (col, _)) in order.keys[..i].iter().enumerate() {
            sql.push(&format!("{col} = ? and "), [key[j].clone()]);
        }
        sql.push(&format!("{} {op} ?)", order.keys[i].0), [key[i].clone()]);
    }
    sql.push(")", []);
}

fn order_by(order: &Order, reverse: bool) -> String {
    let dir = if order.desc != reverse { "desc" } else { "asc" };
    let cols: Vec<String> = order
        .keys
        .iter()
        .map(|(c, _)| format!("{c} {dir}"))
        .collect();
    format!(" order by {}", cols.join(", "))
}

impl Storage {
    /// One page of the list `base` in `order`, its total count and `sums` (SQL expressions over
    /// the columns of `t`, summed over the whole filter).
    pub async fn page<T>(
        &self,
        base: &Sql,
        order: &Order,
        sums: &[&str],
        req: &PageReq,
    ) -> DbResult<Page<T>>
    where
        T: Keyed
            + Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let (after, before) = (
            req.after.as_deref().and_then(|c| decode(order, c)),
            req.before.as_deref().and_then(|c| decode(order, c)),
        );
        let (lt, gt) = if order.desc { (">", "<") } else { ("<", ">") };
        let mut rows_sql = base.clone();
        rows_sql.text = format!("select * from ({}) t", rows_sql.text);
        let reverse = after.is_none() && before.is_some();
        if let Some(k) = &after {
            rows_sql.push(" where ", []);
            beyond(&mut rows_sql, order, k, gt);
        } else if let Some(k) = &before {
            rows_sql.push(" where ", []);
            beyond(&mut rows_sql, order, k, lt);
        }
        rows_sql.push(&order_by(order, reverse), []);
        rows_sql.push(" limit ?", [Bind::I(req.size.max(1))]);
        // The page and the figures read one snapshot, so the count, the totals and the position
        // agree with the rows shown even while others write (PostgreSQL's read committed would give
        // each statement its own; SQLite's deferred transaction holds its snapshot from the first
        // read).
        let mut tx = match self.read_pool() {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(
                p.begin_with("begin isolation level repeatable read read only")
                    .await?,
            ),
        };
        let mut rows: Vec<T> = on_tx!(&mut tx, |p| {
            let mut q = sqlx::query_as::<_, T>(&rows_sql.text);
            for b in &rows_sql.binds {
                q = match b {
                    Bind::I(v) => q.bind(*v),
                    Bind::S(v) => q.bind(v.clone()),
                };
            }
            q.fetch_all(p).await
        })?;
        if reverse {
            rows.reverse();
        }
        self.pause_point(pauses::PAGE_READ).await;

        // One pass over the filter: the count, the totals, and how many rows precede the page.
        let mut agg = base.clone();
        let mut cols = vec!["count(*)".to_owned()];
        cols.extend(
            sums.iter()
                .map(|s| format!("cast(coalesce(sum({s}), 0) as bigint)")),
        );
        let first = rows.first().map(Keyed::key);
        let mut head = Sql::new("");
        if let Some(k) = &first {
            head.binds = agg.binds.clone();
            head.push("cast(coalesce(sum(case when ", []);
            beyond(&mut head, order, k, lt);
            head.push(" then 1 else 0 end), 0) as bigint)", []);
            cols.push(head.text.clone());
            agg.binds = head.binds;
        }
        agg.text = format!("select {} from ({}) t", cols.join(", "), agg.text);
        let figures: Vec<i64> = on_tx!(&mut tx, |p| {
            let mut q = sqlx::query(&agg.text);
            for b in &agg.binds {
                q = match b {
                    Bind::I(v) => q.bind(*v),
                    Bind::S(v) => q.bind(v.clone()),
                };
            }
            let row = q.fetch_one(p).await?;
            (0..row.len())
                .map(|i| row.try_get::<i64, _>(i))
                .collect::<Result<Vec<_>, _>>()
        })?;
        tx.rollback().await?;
        let total = figures[0];
        let start = match first {
            Some(_) => figures[figures.len() - 1],
            None if after.is_some() => total,
            None => 0,
        };
        let n = rows.len() as i64;
        let mut prev = (start > 0)
            .then(|| rows.first().map(|r| encode(&r.key())))
            .flatten();
        let mut next = (start + n < total)
            .then(|| rows.last().map(|r| encode(&r.key())))
            .flatten();
        // A page beyond either end (its rows left the filter since the link was made): the way
        // back is the cursor itself, to the rows before it (or after it).
        if rows.is_empty() && total > 0 {
            match (&after, &before) {
                (Some(k), _) => prev = Some(encode(k)),
                (None, Some(k)) => next = Some(encode(k)),
                (None, None) => {}
            }
        }
        Ok(Page {
            prev,
            next,
            sums: figures[1..1 + sums.len()].to_vec(),
            total,
            start,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER: Order = Order {
        keys: &[("due", Kind::Int), ("id", Kind::Text)],
        desc: false,
    };

    #[test]
    fn placeholders_number_in_order() {
        let mut s = Sql::new("select 1 where a = ?");
        s.push(" and b = ? and c = ?", [Bind::I(1), Bind::S("x".into())]);
        assert_eq!(s.text, "select 1 where a = ? and b = $1 and c = $2");
        let mut s = Sql::new("");
        beyond(&mut s, &ORDER, &[Bind::I(5), Bind::S("A_B".into())], ">");
        assert_eq!(s.text, "((due > $1) or (due = $2 and id > $3))");
    }

    #[test]
    fn cursors_round_trip() {
        let key = vec![Bind::I(-7), Bind::S("BF_1".into())];
        assert_eq!(decode(&ORDER, &encode(&key)), Some(key));
        assert_eq!(decode(&ORDER, "x_y"), None);
        assert_eq!(decode(&ORDER, "12"), None);
        assert_eq!(PageReq::new(None, Some(String::new()), Some(0)).size, 50);
        assert_eq!(PageReq::new(None, None, Some(3)).size, 3);
    }
}
