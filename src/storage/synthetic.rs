//! Synthetic volume for benchmarks (`benches/`): a million applications in one statement.
//! Not used by the server. The arms differ because the row generators differ (a recursive CTE
//! on SQLite, generate_series on PostgreSQL); the rows are the same.

use super::{DbResult, Pool, Storage};

const COLUMNS: &str = "application_id, hall_reference, certificate_serial, status, version, row_version, applicant_name,
    id_type, id_number, mobile, email, payment_channel, out_trade_no, amount_fen, paid_at, invoice_wanted,
    submitted_at, received_at, review_due_at, claimed_by, created_at, updated_at";

impl Storage {
    /// Adds `n` applications numbered from `start`: one in five waits for review (half of those
    /// claimed), the rest are decided; deadlines spread over ±10 days around `now`.
    pub async fn seed_synthetic_applications(&self, start: i64, n: i64, now: i64) -> DbResult<u64> {
        self.seed_synthetic(start, n, now, false).await
    }

    /// As above; with `all_open` every application waits for review, one in a hundred
    /// overdue since yesterday and the rest due over the next twenty days (the SLA sweep's case).
    pub async fn seed_synthetic(
        &self,
        start: i64,
        n: i64,
        now: i64,
        all_open: bool,
    ) -> DbResult<u64> {
        let status = if all_open {
            "'submitted'"
        } else {
            "case when i % 5 = 0 then (case when i % 10 = 0 then 'in_review' else 'submitted' end)
                       when i % 5 = 1 then 'accepted' when i % 5 = 2 then 'shipped' when i % 5 = 3 then 'returned' else 'in_production' end"
        };
        let due = if all_open {
            "case when i % 100 = 0 then $1 - 86400000 else $1 + 60000 + (i % 1728000) * 1000 end"
        } else {
            "$1 - 864000000 + (i % 1728000) * 1000"
        };
        // Per row i: id BF2026MMDD-NNNNNN with 900,000 ids per day-part.
        let expr = |cat: &str, lpad8: &str, lpad16: &str| {
            format!(
                "select {cat}, 'H' {c} i, '0150' {c} {lpad16},
                  {status},
                  1 + (i % 7 = 0), 1, '测试' {c} i, 'resident_id', '11010519491231002X',
                  '138' {c} {lpad8}, 'user' {c} i {c} '@example.com', case when i % 3 = 0 then 'alipay' else 'wechat' end,
                  'SZCA' {c} {lpad16}, 20000, $1 - (i % 864000) * 1000, i % 2 = 0,
                  $1 - (i % 864000) * 1000, $1 - (i % 864000) * 1000, {due},
                  case when i % 10 = 0 and {open} then 'staff:reviewer' else null end, $1, $1",
                open = if all_open { "1 = 0" } else { "1 = 1" },
                c = "||",
            )
        };
        let sql = match &self.write {
            Pool::Sqlite(_) => format!(
                "with recursive seq(i) as (select $2 union all select i + 1 from seq where i < $2 + $3 - 1)
                 insert into applications ({COLUMNS}) {} from seq",
                expr(
                    "'BF' || (20260101 + i / 900000) || '-' || substr('000000' || (i % 900000), -6)",
                    "substr('00000000' || i, -8)",
                    "substr('0000000000000000' || i, -16)"
                )
            ),
            Pool::Postgres(_) => format!(
                "insert into applications ({COLUMNS}) {} from generate_series($2::bigint, $2::bigint + $3::bigint - 1) as i",
                expr(
                    "'BF' || (20260101 + i / 900000) || '-' || lpad((i % 900000)::text, 6, '0')",
                    "lpad(i::text, 8, '0')",
                    "lpad(i::text, 16, '0')"
                )
            )
            .replace("1 + (i % 7 = 0)", "1 + (i % 7 = 0)::int")
            .replace("i % 2 = 0,", "(i % 2 = 0),"),
        };
        let mut tx = self.begin().await?;
        let n = crate::on_tx!(&mut tx, |c| sqlx::query(&sql)
            .bind(now)
            .bind(start)
            .bind(n)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(n)
    }
}
