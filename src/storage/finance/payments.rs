//! The applications' payment state: recomputed after an import or a linked line, and the
//! payment as the hall reported it.

use super::{CHUNK, placeholders};
use crate::domain::ids::ApplicationId;
use crate::domain::money::Fen;
use crate::domain::status::Status;
use crate::storage::{DbResult, Exec, Storage, Tx};
use crate::{on_exec, on_pool, on_tx};

/// After an import's lines and cases are in: missing payments that arrived now are closed,
/// withdrawn (or expired) applications paid now owe a refund, and the payment state of every application the
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
        "b.application_id in (select a.application_id from applications a where a.status in \
            ('withdrawn', 'expired'))"
    } else {
        "exists (select 1 from applications a where a.application_id = b.application_id and \
            a.status in ('withdrawn', 'expired'))"
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
    // An application with a first payment among the new lines (matched or mismatched) has a
    // payment line, so of PAYMENT_STATE only the open cases decide: no look-up of its lines,
    // which on a million applications is a million random reads of `bill_lines`.
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
        set payment_state = case when {OPEN_EXCEPTION} then 'exception' else 'verified' end \
        where {key} in (select application_id from bill_lines where line_id > $2 and import_id = \
            $1 and class in ('matched', 'amount_mismatch'))"
    );
    on_tx!(tx, |c| sqlx::query(&sql)
        .bind(import_id)
        .bind(floor)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    // The others the new lines name (refunds, duplicates: few), by the whole rule.
    let sql = format!(
        "update applications \
        set payment_state = {PAYMENT_STATE} \
        where application_id in (select application_id from bill_lines where line_id > $2 and \
            import_id = $1 and application_id is not null and class not in ('matched', \
            'amount_mismatch'))"
    );
    on_tx!(tx, |c| sqlx::query(&sql)
        .bind(import_id)
        .bind(floor)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(sqlx::FromRow, Debug)]
pub struct AppPay {
    pub application_id: ApplicationId,
    pub amount_fen: Fen,
    pub has_payment: bool,
}

pub async fn app_payment(tx: &mut Tx, application_id: &ApplicationId) -> DbResult<Option<AppPay>> {
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

/// Whether an application has an open case that makes its payment state 'exception'.
macro_rules! open_exception {
    () => {
        "applications.application_id in (select f.application_id from finance_cases f where \
        f.state = 'open' and f.kind in ('amount_mismatch', 'missing_payment', 'unexpected_refund') \
        and f.application_id is not null)"
    };
}

const OPEN_EXCEPTION: &str = open_exception!();

/// The payment state an application's lines and open cases give it (SQL expression). The open
/// cases are few: their applications are gathered once (an uncorrelated `in`), not looked up per
/// application through an index that has no application column.
const PAYMENT_STATE: &str = concat!(
    "case when ",
    open_exception!(),
    " then 'exception' when exists (select 1 from bill_lines b where b.application_id = \
        applications.application_id and b.kind = 'payment' and b.class <> 'duplicate_payment') \
        then 'verified' else 'unverified' end"
);

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
    application_id: &ApplicationId,
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

pub async fn payment_state(
    e: impl Into<Exec<'_>>,
    application_id: &ApplicationId,
) -> DbResult<Option<String>> {
    on_exec!(e, |c| sqlx::query_scalar::<_, String>(
        "select payment_state from applications where application_id = $1"
    )
    .bind(application_id)
    .fetch_optional(c)
    .await)
}

/// An application's payment as the hall reported it.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct PaymentOf {
    pub payment_channel: String,
    pub out_trade_no: String,
    pub amount_fen: Fen,
    pub paid_at: i64,
}

/// The application side of a finance case.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct AppSideRow {
    pub application_id: ApplicationId,
    pub applicant_name: String,
    pub status: Status,
    pub payment_state: String,
    pub payment_channel: String,
    pub out_trade_no: String,
    pub amount_fen: Fen,
    pub paid_at: i64,
}

/// An application's payment as the hall reported it, on a pool or in a transaction.
pub async fn app_payment_of(
    e: impl Into<Exec<'_>>,
    application_id: &ApplicationId,
) -> DbResult<Option<PaymentOf>> {
    on_exec!(e, |c| {
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

impl Storage {
    pub async fn payment_of(&self, application_id: &ApplicationId) -> DbResult<Option<PaymentOf>> {
        app_payment_of(self.read_pool(), application_id).await
    }

    pub async fn payment_state_of(
        &self,
        application_id: &ApplicationId,
    ) -> DbResult<Option<String>> {
        payment_state(self.read_pool(), application_id).await
    }

    /// The application of a case: by id, else the one using the order number.
    pub async fn case_application(
        &self,
        application_id: Option<&ApplicationId>,
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
