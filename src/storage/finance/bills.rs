//! Bill imports and their lines: storing an import, the look-ups its reconciliation needs,
//! and the lists and daily figures read from them.

use super::{BIG_CHUNK, mark, marks};
use crate::domain::ids::ApplicationId;
use crate::domain::{
    intake::PaymentChannel,
    money::Fen,
    reconcile::{AppPayment, Apps, Known},
};
use crate::storage::paging::{Bind, Keyed, Kind, Order, Page, PageReq, Sql};
use crate::storage::{DbResult, Storage, Tx};
use crate::{on_pool, on_tx};
use std::collections::HashSet;

/// Which of these line keys are already stored for the channel. PostgreSQL: one statement with
/// the keys as one array (`= any($2)`); SQLite: `in` lists of a few thousand values.
pub async fn existing_keys(
    tx: &mut Tx,
    channel: PaymentChannel,
    keys: &[&str],
) -> DbResult<HashSet<String>> {
    let mut found = HashSet::new();
    if let Tx::Postgres(c) = tx {
        let rows: Vec<String> = sqlx::query_scalar(
            "select line_key from bill_lines where channel = $1 and line_key = any($2)",
        )
        .bind(channel.code())
        .bind(keys)
        .fetch_all(&mut **c)
        .await?;
        found.extend(rows);
        return Ok(found);
    }
    for chunk in keys.chunks(BIG_CHUNK) {
        let sql = format!(
            "select line_key from bill_lines where channel = {} and line_key in ({})",
            mark(tx, 1),
            marks(tx, 2, chunk.len())
        );
        let rows: Vec<String> = on_tx!(tx, |c| {
            let mut q = sqlx::query_scalar::<_, String>(&sql).bind(channel.code());
            for k in chunk {
                q = q.bind(*k);
            }
            q.fetch_all(c).await
        })?;
        found.extend(rows);
    }
    Ok(found)
}

const KNOWN_APPS: &str = "select a.application_id, a.out_trade_no, a.payment_channel, \
    a.amount_fen, a.paid_at from applications a where a.out_trade_no";

const KNOWN_PAID: &str =
    "select distinct out_trade_no from bill_lines where kind = 'payment' and out_trade_no";

/// What a reconciliation needs to know of these order numbers (the orders of some bill lines):
/// the applications using them, and which already have a payment line on record (any channel).
/// PostgreSQL: two statements, the orders as one array (`= any($1)`); SQLite: `in` lists of a
/// few thousand values.
pub async fn known_for_orders(tx: &mut Tx, orders: &[&str]) -> DbResult<Known> {
    let mut known = Known::default();
    known.apps.reserve(orders.len(), orders.len() * 40);
    if let Tx::Postgres(c) = tx {
        let rows: Vec<PeriodApp> = sqlx::query_as(&format!("{KNOWN_APPS} = any($1)"))
            .bind(orders)
            .fetch_all(&mut **c)
            .await?;
        for r in &rows {
            r.add_to(&mut known.apps);
        }
        let paid: Vec<String> = sqlx::query_scalar(&format!("{KNOWN_PAID} = any($1)"))
            .bind(orders)
            .fetch_all(&mut **c)
            .await?;
        known.paid_orders.extend(paid);
        return Ok(known);
    }
    for chunk in orders.chunks(BIG_CHUNK) {
        let marks = marks(tx, 1, chunk.len());
        let sql = format!("{KNOWN_APPS} in ({marks})");
        let rows: Vec<PeriodApp> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as::<_, PeriodApp>(&sql);
            for o in chunk {
                q = q.bind(*o);
            }
            q.fetch_all(c).await
        })?;
        for r in &rows {
            r.add_to(&mut known.apps);
        }
        let sql = format!("{KNOWN_PAID} in ({marks})");
        let paid: Vec<String> = on_tx!(tx, |c| {
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for o in chunk {
                q = q.bind(*o);
            }
            q.fetch_all(c).await
        })?;
        known.paid_orders.extend(paid);
    }
    Ok(known)
}

/// An application's payment, by its order number.
#[derive(sqlx::FromRow)]
pub struct PeriodApp {
    pub application_id: ApplicationId,
    pub out_trade_no: String,
    pub payment_channel: String,
    pub amount_fen: Fen,
    pub paid_at: i64,
}

impl PeriodApp {
    /// Adds this application to a reconciliation's applications, by its order number.
    pub fn add_to(&self, apps: &mut Apps) {
        let channel =
            PaymentChannel::parse(&self.payment_channel).unwrap_or(PaymentChannel::Wechat);
        apps.insert(
            &self.out_trade_no,
            AppPayment {
                application_id: self.application_id.as_str(),
                channel,
                amount: self.amount_fen,
                paid_at: self.paid_at,
            },
        );
    }
}

/// The applications of `channel` paid in `[from, to)` (ms) whose order number has no payment
/// line at all and no line of import `import_id` (run after that import's lines, all above line
/// id `floor`, are stored): the missing payments' candidates that no line of the import names.
/// One anti-join, however many applications the period holds.
pub async fn unpaid_unnamed(
    tx: &mut Tx,
    channel: PaymentChannel,
    (from, to): (i64, i64),
    import_id: i64,
    floor: i64,
) -> DbResult<Vec<PeriodApp>> {
    // SQLite: the import's order numbers gathered once leave few applications to look up one
    // by one; PostgreSQL plans `not exists` as a hash anti-join by itself (and a `not in` over a
    // million values would not fit its hash table).
    let named = match tx {
        Tx::Sqlite(_) => {
            "a.out_trade_no not in (select n.out_trade_no from bill_lines n where n.line_id > $5 \
                and n.import_id = $4) and not exists (select 1 from bill_lines b where \
                b.out_trade_no = a.out_trade_no and b.kind = 'payment')"
        }
        Tx::Postgres(_) => {
            "$5 >= 0 and not exists (select 1 from bill_lines b where b.out_trade_no = \
                a.out_trade_no and (b.kind = 'payment' or b.import_id = $4))"
        }
    };
    let sql = format!(
        "select a.application_id, a.out_trade_no, a.payment_channel, a.amount_fen, a.paid_at \
        from applications a \
        where a.paid_at >= $1 and a.paid_at < $2 and a.payment_channel = $3 and {named}"
    );
    on_tx!(tx, |c| sqlx::query_as::<_, PeriodApp>(&sql)
        .bind(from)
        .bind(to)
        .bind(channel.code())
        .bind(import_id)
        .bind(floor)
        .fetch_all(c)
        .await)
}

/// The highest line id stored: an import's lines all come after it (imports are serialised by
/// [`Lock::Reconciliation`](crate::storage::Lock::Reconciliation)), so its look-ups can range
/// over the primary key.
pub async fn line_id_floor(tx: &mut Tx) -> DbResult<i64> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "select cast(coalesce(max(line_id), 0) as bigint) from bill_lines"
    )
    .fetch_one(c)
    .await)
}

/// On SQLite, a page cache large enough for a big import's index pages (64 MiB), or back to
/// the default (2 MiB) afterwards. On PostgreSQL (which has its own shared buffers), the
/// transaction's work memory raised to 64 MiB so that its semi-joins over a million order
/// numbers and application ids are hashed in memory, or back to the server's setting.
pub async fn import_cache(tx: &mut Tx, large: bool) -> DbResult<()> {
    let sql = match (&*tx, large) {
        (Tx::Sqlite(_), true) => "pragma cache_size = -65536",
        (Tx::Sqlite(_), false) => "pragma cache_size = -2000",
        (Tx::Postgres(_), true) => "set local work_mem = '64MB'",
        (Tx::Postgres(_), false) => "set local work_mem to default",
    };
    on_tx!(tx, |c| sqlx::query(sql)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// After a large import's lines are stored, on PostgreSQL: fresh statistics of `bill_lines`, so
/// that the import's set-wise statements over its lines are planned as hash joins rather than as
/// a nested loop of index probes per line (the table's statistics predate the import).
pub async fn analyze_lines(tx: &mut Tx) -> DbResult<()> {
    if let Tx::Postgres(c) = tx {
        sqlx::query("analyze bill_lines").execute(&mut **c).await?;
    }
    Ok(())
}

pub struct NewImport<'a> {
    pub channel: PaymentChannel,
    pub sha256: &'a str,
    pub file_name: &'a str,
    pub period: (String, String),
    pub lines: i64,
    pub new_lines: i64,
    pub summary: &'a str,
    pub at: i64,
    pub by: &'a str,
}

pub async fn insert_import(tx: &mut Tx, i: &NewImport<'_>) -> DbResult<i64> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "insert into bill_imports (channel, sha256, file_name, period_from, period_to, lines, \
                new_lines, summary, imported_at, imported_by) \
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
            returning import_id",
        )
        .bind(i.channel.code())
        .bind(i.sha256)
        .bind(i.file_name)
        .bind(&i.period.0)
        .bind(&i.period.1)
        .bind(i.lines)
        .bind(i.new_lines)
        .bind(i.summary)
        .bind(i.at)
        .bind(i.by)
        .fetch_one(c)
        .await
    })
}

/// The import's lines that need a case: (line_id, class, out_trade_no, application_id, amount, refund_no).
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct ExceptionLine {
    pub line_id: i64,
    pub class: String,
    pub out_trade_no: String,
    pub application_id: Option<ApplicationId>,
    pub amount_fen: Fen,
    pub refund_no: Option<String>,
    pub transaction_id: String,
}

pub async fn exception_lines(tx: &mut Tx, import_id: i64) -> DbResult<Vec<ExceptionLine>> {
    on_tx!(tx, |c| {
        sqlx::query_as::<_, ExceptionLine>(
            "select line_id, class, out_trade_no, application_id, amount_fen, refund_no, \
                transaction_id \
            from bill_lines \
            where import_id = $1 and class <> 'matched' \
            order by line_id",
        )
        .bind(import_id)
        .fetch_all(c)
        .await
    })
}

/// The import's refund lines (after line id `floor`), in line order.
pub async fn refund_lines(tx: &mut Tx, import_id: i64, floor: i64) -> DbResult<Vec<ExceptionLine>> {
    on_tx!(tx, |c| {
        sqlx::query_as::<_, ExceptionLine>(
            "select line_id, class, out_trade_no, application_id, amount_fen, refund_no, \
                transaction_id \
            from bill_lines \
            where line_id > $2 and import_id = $1 and class = 'refund' \
            order by line_id",
        )
        .bind(import_id)
        .bind(floor)
        .fetch_all(c)
        .await
    })
}

pub async fn set_import_summary(tx: &mut Tx, import_id: i64, summary: &str) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "update bill_imports set summary = $1 where import_id = $2"
    )
    .bind(summary)
    .bind(import_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct LineView {
    pub line_id: i64,
    pub channel: String,
    pub import_id: i64,
    pub line_no: i64,
    pub kind: String,
    pub at: i64,
    pub transaction_id: String,
    pub out_trade_no: String,
    pub amount_fen: Fen,
    pub fee_e5: i64,
    pub refund_no: Option<String>,
    pub class: String,
    pub application_id: Option<ApplicationId>,
    pub file_name: String,
    pub sha256: String,
}

const LINE_COLUMNS: &str = "select l.line_id, l.channel, l.import_id, l.line_no, l.kind, l.at, \
        l.transaction_id, l.out_trade_no, l.amount_fen, l.fee_e5, l.refund_no, l.class, \
        l.application_id, i.file_name, i.sha256 \
    from bill_lines l \
    join bill_imports i on i.import_id = l.import_id";

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct ImportRow {
    pub import_id: i64,
    pub channel: String,
    pub sha256: String,
    pub file_name: String,
    pub period_from: String,
    pub period_to: String,
    pub lines: i64,
    pub new_lines: i64,
    pub summary: String,
    pub imported_at: i64,
    pub imported_by: String,
}

/// One day's figures of one channel, for the daily reconciliation report.
#[derive(sqlx::FromRow, Debug, Clone, Default, PartialEq)]
pub struct DayFigures {
    pub bill_day: String,
    pub channel: String,
    pub lines: i64,
    pub payments: i64,
    pub gross_fen: Fen,
    pub fee_e5: i64,
    pub refunds: i64,
    pub refund_fen: Fen,
    pub matched: i64,
    pub exceptions: i64,
    pub open_exceptions: i64,
}

/// Bill imports: newest first.
const IMPORT_ORDER: Order = Order {
    keys: &[("import_id", Kind::Int)],
    desc: true,
};

impl Keyed for ImportRow {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.import_id)]
    }
}

impl Storage {
    /// Bill imports, newest first; at most `limit`.
    pub async fn bill_imports(&self, limit: i64) -> DbResult<Vec<ImportRow>> {
        Ok(self.bill_imports_page(&PageReq::first(limit)).await?.rows)
    }

    /// One page of the bill imports, newest first, with their whole count.
    pub async fn bill_imports_page(&self, req: &PageReq) -> DbResult<Page<ImportRow>> {
        let sql = Sql::new(
            "select import_id, channel, sha256, file_name, period_from, period_to, lines, \
                new_lines, summary, imported_at, imported_by \
            from bill_imports",
        );
        self.page(&sql, &IMPORT_ORDER, &[], req).await
    }

    /// Every bill line of this order number (any channel), oldest first: the case's evidence.
    pub async fn bill_lines_of_order(&self, out_trade_no: &str) -> DbResult<Vec<LineView>> {
        let sql = format!("{LINE_COLUMNS} where l.out_trade_no = $1 order by l.at, l.line_id");
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, LineView>(&sql)
            .bind(out_trade_no)
            .fetch_all(p)
            .await)
    }

    pub async fn bill_lines_of_application(
        &self,
        application_id: &ApplicationId,
    ) -> DbResult<Vec<LineView>> {
        let sql = format!("{LINE_COLUMNS} where l.application_id = $1 order by l.at, l.line_id");
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, LineView>(&sql)
            .bind(application_id)
            .fetch_all(p)
            .await)
    }

    /// Figures per Beijing day and channel for the days `[from, to]` (YYYY-MM-DD).
    pub async fn daily_figures(&self, from: &str, to: &str) -> DbResult<Vec<DayFigures>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, DayFigures>(
                "select l.bill_day, l.channel, cast(count(*) as bigint) as lines, \
                    cast(coalesce(sum(case when l.kind = 'payment' then 1 else 0 end), 0) as \
                    bigint) as payments, cast(coalesce(sum(case when l.kind = 'payment' then \
                    l.amount_fen else 0 end), 0) as bigint) as gross_fen, \
                    cast(coalesce(sum(l.fee_e5), 0) as bigint) as fee_e5, cast(coalesce(sum(case \
                    when l.kind = 'refund' then 1 else 0 end), 0) as bigint) as refunds, \
                    cast(coalesce(sum(case when l.kind = 'refund' then l.amount_fen else 0 end), \
                    0) as bigint) as refund_fen, cast(coalesce(sum(case when l.class = 'matched' \
                    then 1 else 0 end), 0) as bigint) as matched, cast(coalesce(sum(case when \
                    l.class in ('amount_mismatch', 'unmatched_payment', 'duplicate_payment') then \
                    1 else 0 end), 0) as bigint) as exceptions, cast(coalesce(sum(case when exists \
                    (select 1 from finance_cases f where f.line_id = l.line_id and f.state = \
                    'open') then 1 else 0 end), 0) as bigint) as open_exceptions \
                from bill_lines l \
                where l.bill_day >= $1 and l.bill_day <= $2 \
                group by l.bill_day, l.channel \
                order by l.bill_day, l.channel",
            )
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await
        })
    }
}
