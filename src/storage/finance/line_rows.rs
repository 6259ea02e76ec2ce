//! Storing a bill's lines: a few thousand rows a statement on SQLite, one array a column
//! (`unnest`) on PostgreSQL.

use super::placeholders;
use crate::domain::{intake::PaymentChannel, money::Fen};
use crate::on_tx;
use crate::storage::{DbResult, Tx};

pub struct LineRow<'a> {
    pub key: std::borrow::Cow<'a, str>,
    pub line_no: i64,
    pub refund: bool,
    pub at: i64,
    pub bill_day: String,
    pub transaction_id: &'a str,
    pub out_trade_no: &'a str,
    pub amount_fen: Fen,
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
    if let Tx::Postgres(c) = tx {
        return insert_lines_pg(c, channel, import_id, rows).await;
    }
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

/// PostgreSQL: the rows as one array a column, in one statement (`unnest`), in file order.
async fn insert_lines_pg(
    c: &mut sqlx::PgConnection,
    channel: PaymentChannel,
    import_id: i64,
    rows: &[LineRow<'_>],
) -> DbResult<()> {
    let col = |f: fn(&LineRow<'_>) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
    let keys: Vec<&str> = rows.iter().map(|r| r.key.as_ref()).collect();
    let kinds: Vec<&str> = rows
        .iter()
        .map(|r| if r.refund { "refund" } else { "payment" })
        .collect();
    let days: Vec<&str> = rows.iter().map(|r| r.bill_day.as_str()).collect();
    let txs: Vec<&str> = rows.iter().map(|r| r.transaction_id).collect();
    let orders: Vec<&str> = rows.iter().map(|r| r.out_trade_no).collect();
    let refund_nos: Vec<Option<&str>> = rows.iter().map(|r| r.refund_no).collect();
    let classes: Vec<&str> = rows.iter().map(|r| r.class).collect();
    let apps: Vec<Option<&str>> = rows.iter().map(|r| r.application_id).collect();
    sqlx::query(
        "insert into bill_lines (channel, import_id, line_key, line_no, kind, at, bill_day, \
            transaction_id, out_trade_no, amount_fen, fee_e5, refund_no, class, application_id) \
        select $1, $2, k, n, kind, at, d, t, o, a, f, r, c, app \
        from unnest($3::text[], $4::int8[], $5::text[], $6::int8[], $7::text[], $8::text[], \
            $9::text[], $10::int8[], $11::int8[], $12::text[], $13::text[], $14::text[]) \
            with ordinality as u(k, n, kind, at, d, t, o, a, f, r, c, app, i) \
        order by i \
        on conflict (channel, line_key) do nothing",
    )
    .bind(channel.code())
    .bind(import_id)
    .bind(keys)
    .bind(col(|r| r.line_no))
    .bind(kinds)
    .bind(col(|r| r.at))
    .bind(days)
    .bind(txs)
    .bind(orders)
    .bind(col(|r| r.amount_fen.get()))
    .bind(col(|r| r.fee_e5))
    .bind(refund_nos)
    .bind(classes)
    .bind(apps)
    .execute(c)
    .await?;
    Ok(())
}
