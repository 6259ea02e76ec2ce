//! The cases finance works through: opening them from an import's lines, closing them, and
//! the lists of them.

use super::BIG_CHUNK;
use crate::domain::ids::ApplicationId;
use crate::domain::intake::PaymentChannel;
use crate::domain::money::Fen;
use crate::storage::paging::{Bind, Keyed, Kind, Order, Page, PageReq, Sql};
use crate::storage::{DbResult, Exec, Storage, Tx};
use crate::{on_exec, on_pool, on_tx};

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
    pub application_id: Option<&'a ApplicationId>,
    pub line_id: Option<i64>,
    pub amount_fen: Fen,
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
    amount_fen: Fen,
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
/// one, or the application was withdrawn (or expired).
pub async fn refund_expected(tx: &mut Tx, out_trade_no: &str) -> DbResult<bool> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, bool>(
            "select exists (select 1 from finance_cases where out_trade_no = $1 and resolution = \
                'refund_confirmed') or exists (select 1 from applications where out_trade_no = $1 \
                and status in ('withdrawn', 'expired'))",
        )
        .bind(out_trade_no)
        .fetch_one(c)
        .await
    })
}

/// The open case about one application's missing payment, if any.
pub async fn open_case_of(
    tx: &mut Tx,
    application_id: &ApplicationId,
    kind: &str,
) -> DbResult<Option<i64>> {
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
    pub application_id: Option<ApplicationId>,
    pub line_id: Option<i64>,
    pub amount_fen: Fen,
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

pub async fn case_row(e: impl Into<Exec<'_>>, case_id: i64) -> DbResult<Option<CaseRow>> {
    let sql = format!("{CASE_COLUMNS} where case_id = $1");
    on_exec!(e, |c| sqlx::query_as::<_, CaseRow>(&sql)
        .bind(case_id)
        .fetch_optional(c)
        .await)
}

/// What the exceptions list shows of a case.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct CaseListRow {
    pub case_id: i64,
    pub kind: String,
    pub channel: String,
    pub out_trade_no: String,
    pub application_id: Option<ApplicationId>,
    pub amount_fen: Fen,
    pub opened_at: i64,
    pub state: String,
    pub resolution: Option<String>,
    pub refund_no: Option<String>,
    pub transaction_id: Option<String>,
    pub expected_fen: Option<Fen>,
    pub applicant_name: Option<String>,
}

/// Which cases a list shows: open, closed, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseState {
    Open,
    Closed,
    Any,
}

/// The exceptions list, newest case first.
const CASE_ORDER: Order = Order {
    keys: &[("case_id", Kind::Int)],
    desc: true,
};

impl Keyed for CaseListRow {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.case_id)]
    }
}

impl Storage {
    /// Cases, newest first, in `state`; `kinds` empty = every kind (at most `limit`).
    pub async fn finance_cases(
        &self,
        open: bool,
        kinds: &[&str],
        limit: i64,
    ) -> DbResult<Vec<CaseListRow>> {
        let state = if open {
            CaseState::Open
        } else {
            CaseState::Any
        };
        let req = PageReq::first(limit);
        Ok(self.finance_cases_page(state, kinds, &req).await?.rows)
    }

    /// One page of the cases in `state` of `kinds` (empty: every kind), newest first, with the
    /// count and the amount (in fen) of the whole filter in `sums[0]`.
    pub async fn finance_cases_page(
        &self,
        state: CaseState,
        kinds: &[&str],
        req: &PageReq,
    ) -> DbResult<Page<CaseListRow>> {
        let mut sql = Sql::new(
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
        match state {
            CaseState::Open => sql.push(" and f.state = 'open'", []),
            CaseState::Closed => sql.push(" and f.state = 'closed'", []),
            CaseState::Any => &mut sql,
        };
        if !kinds.is_empty() {
            let marks = vec!["?"; kinds.len()].join(", ");
            sql.push(
                &format!(" and f.kind in ({marks})"),
                kinds.iter().map(|k| Bind::S((*k).to_owned())),
            );
        }
        self.page(&sql, &CASE_ORDER, &["amount_fen"], req).await
    }

    pub async fn finance_case(&self, case_id: i64) -> DbResult<Option<CaseRow>> {
        case_row(self.read_pool(), case_id).await
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
