//! The finance desk's tables: imported bills and their lines, the cases finance works through,
//! the applications' payment state.

use super::{DbResult, Storage, Tx};
use crate::domain::{
    intake::PaymentChannel,
    money::Fen,
    reconcile::{AppPayment, Known},
};
use crate::{on_pool, on_tx};
use std::collections::HashSet;

/// Rows per multi-row statement: under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 400;

/// Values per statement for the large reconciliation look-ups and inserts: fewer round trips,
/// still under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const BIG_CHUNK: usize = 4000;

/// Serialises reconciliations: two imports at once would each classify against what the other
/// has not committed yet. SQLite's `begin immediate` already does; PostgreSQL takes a lock held
/// until the transaction ends.
pub async fn lock_reconciliation(tx: &mut Tx) -> DbResult<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("select pg_advisory_xact_lock(70070001)")
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// Which of these line keys are already stored for the channel.
pub async fn existing_keys(
    tx: &mut Tx,
    channel: PaymentChannel,
    keys: &[&str],
) -> DbResult<HashSet<String>> {
    let mut found = HashSet::new();
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

/// What a reconciliation needs to know of these order numbers (the orders of some bill lines):
/// the applications using them, and which already have a payment line on record (any channel).
pub async fn known_for_orders(tx: &mut Tx, orders: &[&str]) -> DbResult<Known> {
    let mut known = Known::default();
    for chunk in orders.chunks(BIG_CHUNK) {
        let marks = marks(tx, 1, chunk.len());
        let sql = format!(
            "select a.application_id, a.out_trade_no, a.payment_channel, a.amount_fen, a.paid_at \
            from applications a \
            where a.out_trade_no in ({marks})"
        );
        let rows: Vec<PeriodApp> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as::<_, PeriodApp>(&sql);
            for o in chunk {
                q = q.bind(*o);
            }
            q.fetch_all(c).await
        })?;
        for r in rows {
            let (order, app) = r.into_known();
            known.apps.insert(order, app);
        }
        let sql = format!(
            "select distinct out_trade_no \
            from bill_lines \
            where kind = 'payment' and out_trade_no in ({marks})"
        );
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
    pub application_id: String,
    pub out_trade_no: String,
    pub payment_channel: String,
    pub amount_fen: i64,
    pub paid_at: i64,
}

impl PeriodApp {
    pub fn into_known(self) -> (String, AppPayment) {
        let channel =
            PaymentChannel::parse(&self.payment_channel).unwrap_or(PaymentChannel::Wechat);
        (
            self.out_trade_no,
            AppPayment {
                application_id: self.application_id,
                channel,
                amount: Fen::new(self.amount_fen),
                paid_at: self.paid_at,
            },
        )
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
/// [`lock_reconciliation`]), so its look-ups can range over the primary key.
pub async fn line_id_floor(tx: &mut Tx) -> DbResult<i64> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "select cast(coalesce(max(line_id), 0) as bigint) from bill_lines"
    )
    .fetch_one(c)
    .await)
}

/// On SQLite, a page cache large enough for a big import's index pages (64 MiB), or back to
/// the default (2 MiB) afterwards. PostgreSQL has its own shared buffers.
pub async fn import_cache(tx: &mut Tx, large: bool) -> DbResult<()> {
    if let Tx::Sqlite(t) = tx {
        let sql = if large {
            "pragma cache_size = -65536"
        } else {
            "pragma cache_size = -2000"
        };
        sqlx::query(sql).execute(&mut **t).await?;
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

pub struct LineRow<'a> {
    pub key: std::borrow::Cow<'a, str>,
    pub line_no: i64,
    pub refund: bool,
    pub at: i64,
    pub bill_day: String,
    pub transaction_id: &'a str,
    pub out_trade_no: &'a str,
    pub amount_fen: i64,
    pub fee_e5: i64,
    pub refund_no: Option<&'a str>,
    pub class: &'static str,
    pub application_id: Option<&'a str>,
}

/// Rows per insert of bill lines (12 values each).
pub const LINE_ROWS: usize = 2000;

/// Stores the lines; a line already stored (a concurrent import of the same bill) is skipped.
pub async fn insert_lines(
    tx: &mut Tx,
    channel: PaymentChannel,
    import_id: i64,
    rows: &[LineRow<'_>],
) -> DbResult<()> {
    // SQLite: anonymous placeholders only (see `marks`), so each row binds the channel and
    // the import too.
    let sqlite = matches!(tx, Tx::Sqlite(_));
    for chunk in rows.chunks(LINE_ROWS) {
        let mut sql = String::with_capacity(250 + chunk.len() * 90);
        sql.push_str(
            "insert into bill_lines (channel, import_id, line_key, line_no, kind, at, bill_day, \
                transaction_id, out_trade_no, amount_fen, fee_e5, refund_no, class, \
                application_id) \
            values ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            if sqlite {
                sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
            } else {
                sql.push_str("($1, $2, ");
                sql.push_str(&placeholders(i * 12 + 3, 12));
                sql.push(')');
            }
        }
        sql.push_str(" on conflict (channel, line_key) do nothing");
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            if !sqlite {
                q = q.bind(channel.code()).bind(import_id);
            }
            for r in chunk {
                if sqlite {
                    q = q.bind(channel.code()).bind(import_id);
                }
                q = q
                    .bind(r.key.as_ref())
                    .bind(r.line_no)
                    .bind(if r.refund { "refund" } else { "payment" })
                    .bind(r.at)
                    .bind(&r.bill_day)
                    .bind(r.transaction_id)
                    .bind(r.out_trade_no)
                    .bind(r.amount_fen)
                    .bind(r.fee_e5)
                    .bind(r.refund_no)
                    .bind(r.class)
                    .bind(r.application_id);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// The import's lines that need a case: (line_id, class, out_trade_no, application_id, amount, refund_no).
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct ExceptionLine {
    pub line_id: i64,
    pub class: String,
    pub out_trade_no: String,
    pub application_id: Option<String>,
    pub amount_fen: i64,
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

/// Opens a case for each of the import's lines with line id in `(after, before)` that is a
/// mismatch, an unmatched or a duplicate payment (one statement; `open_case` per line).
pub async fn open_line_cases(
    tx: &mut Tx,
    import_id: i64,
    (after, before): (i64, i64),
    at: i64,
) -> DbResult<u64> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into finance_cases (kind, channel, out_trade_no, application_id, line_id, \
                amount_fen, opened_at) \
            select class, channel, out_trade_no, application_id, line_id, amount_fen, $4 \
            from bill_lines \
            where line_id > $2 and line_id < $3 and import_id = $1 and class in \
                ('amount_mismatch', 'unmatched_payment', 'duplicate_payment') \
            order by line_id \
            on conflict (kind, line_id) \
            where line_id is not null do nothing",
        )
        .bind(import_id)
        .bind(after)
        .bind(before)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })
}

/// A missing payment: (application_id, out_trade_no, amount_fen).
pub type Missing = (String, String, i64);

/// Opens a missing-payment case per application unless one is open; how many were opened.
pub async fn open_missing_cases(
    tx: &mut Tx,
    channel: PaymentChannel,
    missing: &[Missing],
    at: i64,
) -> DbResult<u64> {
    let mut opened = 0;
    let sqlite = matches!(tx, Tx::Sqlite(_));
    for chunk in missing.chunks(BIG_CHUNK / 4) {
        let mut sql = String::from(
            "insert into finance_cases (kind, channel, out_trade_no, application_id, line_id, \
                amount_fen, opened_at) \
            values ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            if sqlite {
                sql.push_str("('missing_payment', ?, ?, ?, null, ?, ?)");
            } else {
                let b = 3 + i * 3;
                sql.push_str(&format!(
                    "('missing_payment', $1, ${b}, ${}, null, ${}, $2)",
                    b + 1,
                    b + 2
                ));
            }
        }
        sql.push_str(
            " \
            on conflict (application_id, kind) \
            where kind in ('missing_payment', 'refund_owed') and state = 'open' do nothing",
        );
        opened += on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            if !sqlite {
                q = q.bind(channel.code()).bind(at);
            }
            for (app, order, fen) in chunk {
                if sqlite {
                    q = q.bind(channel.code());
                }
                q = q.bind(order.as_str()).bind(app.as_str()).bind(*fen);
                if sqlite {
                    q = q.bind(at);
                }
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(opened)
}

pub struct NewCase<'a> {
    pub kind: &'a str,
    pub channel: PaymentChannel,
    pub out_trade_no: &'a str,
    pub application_id: Option<&'a str>,
    pub line_id: Option<i64>,
    pub amount_fen: i64,
    pub at: i64,
}

/// Opens a case unless the same one is open (per line, or per application for missing payments
/// and refunds owed). Whether it was opened.
pub async fn open_case(tx: &mut Tx, n: &NewCase<'_>) -> DbResult<bool> {
    let sql = if n.line_id.is_some() {
        "insert into finance_cases (kind, channel, out_trade_no, application_id, line_id, \
            amount_fen, opened_at) \
        values ($1, $2, $3, $4, $5, $6, $7) \
        on conflict (kind, line_id) \
        where line_id is not null do nothing"
    } else {
        "insert into finance_cases (kind, channel, out_trade_no, application_id, line_id, \
            amount_fen, opened_at) \
        values ($1, $2, $3, $4, $5, $6, $7) \
        on conflict (application_id, kind) \
        where kind in ('missing_payment', 'refund_owed') and state = 'open' do nothing"
    };
    let n = on_tx!(tx, |c| sqlx::query(sql)
        .bind(n.kind)
        .bind(n.channel.code())
        .bind(n.out_trade_no)
        .bind(n.application_id)
        .bind(n.line_id)
        .bind(n.amount_fen)
        .bind(n.at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The oldest open case owing money back on this order (a duplicate payment, a refund owed, a
/// payment no application claims), preferring one of the refund's amount.
pub async fn open_refundable_case(
    tx: &mut Tx,
    out_trade_no: &str,
    amount_fen: i64,
) -> DbResult<Option<i64>> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "select case_id \
            from finance_cases \
            where out_trade_no = $1 and state = 'open' and kind in ('duplicate_payment', \
                'refund_owed', 'unmatched_payment') \
            order by case when amount_fen = $2 then 0 else 1 end, case_id \
            limit 1",
        )
        .bind(out_trade_no)
        .bind(amount_fen)
        .fetch_optional(c)
        .await
    })
}

#[allow(clippy::too_many_arguments)]
/// Closes an open case. False when it was not open at `row_version` (someone else was first).
pub async fn close_case(
    tx: &mut Tx,
    case_id: i64,
    row_version: Option<i64>,
    resolution: &str,
    refund_no: Option<&str>,
    note: Option<&str>,
    by: &str,
    at: i64,
) -> DbResult<bool> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "update finance_cases \
            set state = 'closed', resolution = $1, refund_no = coalesce($2, refund_no), note = $3, \
                closed_by = $4, closed_at = $5, row_version = row_version + 1 \
            where case_id = $6 and state = 'open' and ($7 is null or row_version = $7)",
        )
        .bind(resolution)
        .bind(refund_no)
        .bind(note)
        .bind(by)
        .bind(at)
        .bind(case_id)
        .bind(row_version)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Whether a refund of this order is expected without an open case: the clerk already confirmed
/// one, or the application was withdrawn.
pub async fn refund_expected(tx: &mut Tx, out_trade_no: &str) -> DbResult<bool> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, bool>(
            "select exists (select 1 from finance_cases where out_trade_no = $1 and resolution = \
                'refund_confirmed') or exists (select 1 from applications where out_trade_no = $1 \
                and status = 'withdrawn')",
        )
        .bind(out_trade_no)
        .fetch_one(c)
        .await
    })
}

/// After an import's lines and cases are in: missing payments that arrived now are closed,
/// withdrawn applications paid now owe a refund, and the payment state of every application the
/// import touched is recomputed. `floor`: the highest line id before the import. `bulk`: the
/// import is large (tens of thousands of lines), so the applications are walked in table order
/// rather than looked up one by one for each line (on SQLite; PostgreSQL's planner chooses).
pub async fn after_import(
    tx: &mut Tx,
    import_id: i64,
    floor: i64,
    bulk: bool,
    by: &str,
    at: i64,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "update finance_cases \
            set state = 'closed', resolution = 'payment_arrived', closed_by = $2, closed_at = $3, \
                row_version = row_version + 1 \
            where kind = 'missing_payment' and state = 'open' and exists ( select 1 from \
                bill_lines b where b.import_id = $1 and b.kind = 'payment' and b.application_id = \
                finance_cases.application_id)",
        )
        .bind(import_id)
        .bind(by)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    let withdrawn = if bulk {
        // One pass over the applications gathers the withdrawn ones.
        "b.application_id in (select a.application_id from applications a where a.status = \
            'withdrawn')"
    } else {
        "exists (select 1 from applications a where a.application_id = b.application_id and \
            a.status = 'withdrawn')"
    };
    let sql = format!(
        "insert into finance_cases (kind, channel, out_trade_no, application_id, line_id, \
            amount_fen, opened_at) \
        select 'refund_owed', b.channel, b.out_trade_no, b.application_id, null, b.amount_fen, $2 \
        from bill_lines b \
        where b.line_id > $3 and b.import_id = $1 and b.class in ('matched', 'amount_mismatch') \
            and {withdrawn} \
        on conflict (application_id, kind) \
        where kind in ('missing_payment', 'refund_owed') and state = 'open' do nothing"
    );
    on_tx!(tx, |c| sqlx::query(&sql)
        .bind(import_id)
        .bind(at)
        .bind(floor)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    // SQLite: `+application_id` keeps the primary key's index out, so the table is scanned in
    // its own order and each row checked against the import's (gathered) applications: a
    // million updates then write pages in order instead of seeking a row for each.
    let key = if bulk && matches!(tx, Tx::Sqlite(_)) {
        "+application_id"
    } else {
        "application_id"
    };
    let sql = format!(
        "update applications \
        set payment_state = {PAYMENT_STATE} \
        where {key} in (select application_id from bill_lines where line_id > $2 and import_id = \
            $1 and application_id is not null)"
    );
    on_tx!(tx, |c| sqlx::query(&sql)
        .bind(import_id)
        .bind(floor)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
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

#[derive(sqlx::FromRow, Debug)]
pub struct AppPay {
    pub application_id: String,
    pub amount_fen: i64,
    pub has_payment: bool,
}

pub async fn app_payment(tx: &mut Tx, application_id: &str) -> DbResult<Option<AppPay>> {
    on_tx!(tx, |c| {
        sqlx::query_as::<_, AppPay>(
            "select a.application_id, a.amount_fen, exists (select 1 from bill_lines b where \
                b.application_id = a.application_id and b.kind = 'payment' and b.class <> \
                'duplicate_payment') as has_payment \
            from applications a \
            where a.application_id = $1",
        )
        .bind(application_id)
        .fetch_optional(c)
        .await
    })
}

/// The payment state an application's lines and open cases give it (SQL expression). The open
/// cases are few: their applications are gathered once (an uncorrelated `in`), not looked up per
/// application through an index that has no application column.
const PAYMENT_STATE: &str = "case when applications.application_id in (select f.application_id \
        from finance_cases f where f.state = 'open' and f.kind in ('amount_mismatch', \
        'missing_payment', 'unexpected_refund') and f.application_id is not null) then 'exception' \
        when exists (select 1 from bill_lines b where b.application_id = \
        applications.application_id and b.kind = 'payment' and b.class <> 'duplicate_payment') \
        then 'verified' else 'unverified' end";

/// Recomputes the payment state of these applications from their lines and open cases.
pub async fn refresh_payment_state(tx: &mut Tx, application_ids: &[&str]) -> DbResult<()> {
    for chunk in application_ids.chunks(CHUNK) {
        let sql = format!(
            "update applications set payment_state = {PAYMENT_STATE} where application_id in ({})",
            placeholders(1, chunk.len())
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for a in chunk {
                q = q.bind(*a);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Ties a bill line to an application (an unmatched payment the clerk linked).
pub async fn link_line(
    tx: &mut Tx,
    line_id: i64,
    application_id: &str,
    class: &str,
) -> DbResult<()> {
    on_tx!(tx, |c| sqlx::query(
        "update bill_lines set application_id = $1, class = $2 where line_id = $3"
    )
    .bind(application_id)
    .bind(class)
    .bind(line_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn payment_state(tx: &mut Tx, application_id: &str) -> DbResult<Option<String>> {
    on_tx!(tx, |c| sqlx::query_scalar::<_, String>(
        "select payment_state from applications where application_id = $1"
    )
    .bind(application_id)
    .fetch_optional(c)
    .await)
}

/// The open case about one application's missing payment, if any.
pub async fn open_case_of(tx: &mut Tx, application_id: &str, kind: &str) -> DbResult<Option<i64>> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "select case_id \
            from finance_cases \
            where application_id = $1 and kind = $2 and state = 'open'",
        )
        .bind(application_id)
        .bind(kind)
        .fetch_optional(c)
        .await
    })
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct CaseRow {
    pub case_id: i64,
    pub kind: String,
    pub channel: String,
    pub out_trade_no: String,
    pub application_id: Option<String>,
    pub line_id: Option<i64>,
    pub amount_fen: i64,
    pub opened_at: i64,
    pub state: String,
    pub resolution: Option<String>,
    pub refund_no: Option<String>,
    pub note: Option<String>,
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    pub row_version: i64,
}

const CASE_COLUMNS: &str = "select case_id, kind, channel, out_trade_no, application_id, line_id, \
        amount_fen, opened_at, state, resolution, refund_no, note, closed_at, closed_by, \
        row_version \
    from finance_cases";

pub async fn case_in_tx(tx: &mut Tx, case_id: i64) -> DbResult<Option<CaseRow>> {
    let sql = format!("{CASE_COLUMNS} where case_id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, CaseRow>(&sql)
        .bind(case_id)
        .fetch_optional(c)
        .await)
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
    pub amount_fen: i64,
    pub fee_e5: i64,
    pub refund_no: Option<String>,
    pub class: String,
    pub application_id: Option<String>,
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
    pub gross_fen: i64,
    pub fee_e5: i64,
    pub refunds: i64,
    pub refund_fen: i64,
    pub matched: i64,
    pub exceptions: i64,
    pub open_exceptions: i64,
}

/// What the exceptions list shows of a case.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct CaseListRow {
    pub case_id: i64,
    pub kind: String,
    pub channel: String,
    pub out_trade_no: String,
    pub application_id: Option<String>,
    pub amount_fen: i64,
    pub opened_at: i64,
    pub state: String,
    pub resolution: Option<String>,
    pub refund_no: Option<String>,
    pub transaction_id: Option<String>,
    pub expected_fen: Option<i64>,
    pub applicant_name: Option<String>,
}

/// An application's payment as the hall reported it.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct PaymentOf {
    pub payment_channel: String,
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub paid_at: i64,
}

impl Storage {
    pub async fn payment_of(&self, application_id: &str) -> DbResult<Option<PaymentOf>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, PaymentOf>(
                "select payment_channel, out_trade_no, amount_fen, paid_at \
                from applications \
                where application_id = $1",
            )
            .bind(application_id)
            .fetch_optional(p)
            .await
        })
    }

    pub async fn bill_imports(&self, limit: i64) -> DbResult<Vec<ImportRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, ImportRow>(
                "select import_id, channel, sha256, file_name, period_from, period_to, lines, \
                    new_lines, summary, imported_at, imported_by \
                from bill_imports \
                order by import_id desc \
                limit $1",
            )
            .bind(limit)
            .fetch_all(p)
            .await
        })
    }

    /// Cases, newest first; `open` only the open ones; `kinds` empty = every kind.
    pub async fn finance_cases(
        &self,
        open: bool,
        kinds: &[&str],
        limit: i64,
    ) -> DbResult<Vec<CaseListRow>> {
        let mut sql = String::from(
            "select f.case_id, f.kind, f.channel, f.out_trade_no, f.application_id, f.amount_fen, \
                f.opened_at, f.state, f.resolution, f.refund_no, l.transaction_id, a.amount_fen as \
                expected_fen, a.applicant_name \
            from finance_cases f \
            left \
            join bill_lines l on l.line_id = f.line_id \
            left \
            join applications a on a.application_id = f.application_id \
            where 1 = 1",
        );
        if open {
            sql.push_str(" and f.state = 'open'");
        }
        if !kinds.is_empty() {
            sql.push_str(&format!(
                " and f.kind in ({})",
                placeholders(2, kinds.len())
            ));
        }
        sql.push_str(" order by f.case_id desc limit $1");
        on_pool!(self.read_pool(), |p| {
            let mut q = sqlx::query_as::<_, CaseListRow>(&sql).bind(limit);
            for k in kinds {
                q = q.bind(*k);
            }
            q.fetch_all(p).await
        })
    }

    pub async fn finance_case(&self, case_id: i64) -> DbResult<Option<CaseRow>> {
        let sql = format!("{CASE_COLUMNS} where case_id = $1");
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, CaseRow>(&sql)
            .bind(case_id)
            .fetch_optional(p)
            .await)
    }

    /// Every bill line of this order number (any channel), oldest first: the case's evidence.
    pub async fn bill_lines_of_order(&self, out_trade_no: &str) -> DbResult<Vec<LineView>> {
        let sql = format!("{LINE_COLUMNS} where l.out_trade_no = $1 order by l.at, l.line_id");
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, LineView>(&sql)
            .bind(out_trade_no)
            .fetch_all(p)
            .await)
    }

    pub async fn bill_lines_of_application(&self, application_id: &str) -> DbResult<Vec<LineView>> {
        let sql = format!("{LINE_COLUMNS} where l.application_id = $1 order by l.at, l.line_id");
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, LineView>(&sql)
            .bind(application_id)
            .fetch_all(p)
            .await)
    }

    pub async fn payment_state_of(&self, application_id: &str) -> DbResult<Option<String>> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, String>(
            "select payment_state from applications where application_id = $1"
        )
        .bind(application_id)
        .fetch_optional(p)
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

    /// Open cases per kind (for the desk's counters).
    pub async fn open_case_counts(&self) -> DbResult<Vec<(String, i64)>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, (String, i64)>(
                "select kind, count(*) \
                from finance_cases \
                where state = 'open' \
                group by kind \
                order by kind",
            )
            .fetch_all(p)
            .await
        })
    }
}

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

/// The application side of a finance case.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct AppSideRow {
    pub application_id: String,
    pub applicant_name: String,
    pub status: String,
    pub payment_state: String,
    pub payment_channel: String,
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub paid_at: i64,
}

impl Storage {
    /// The application of a case: by id, else the one using the order number.
    pub async fn case_application(
        &self,
        application_id: Option<&str>,
        out_trade_no: &str,
    ) -> DbResult<Option<AppSideRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, AppSideRow>(
                "select application_id, applicant_name, status, payment_state, payment_channel, \
                    out_trade_no, amount_fen, paid_at \
                from applications \
                where application_id = $1 or ($1 is null and out_trade_no = $2) \
                order by created_at \
                limit 1",
            )
            .bind(application_id)
            .bind(out_trade_no)
            .fetch_optional(p)
            .await
        })
    }
}

/// An application's payment as the hall reported it (inside a transaction).
pub async fn app_payment_of(tx: &mut Tx, application_id: &str) -> DbResult<Option<PaymentOf>> {
    on_tx!(tx, |c| {
        sqlx::query_as::<_, PaymentOf>(
            "select payment_channel, out_trade_no, amount_fen, paid_at \
            from applications \
            where application_id = $1",
        )
        .bind(application_id)
        .fetch_optional(c)
        .await
    })
}
