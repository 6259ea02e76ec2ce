//! Synthetic volume for benchmarks (`benches/`): a million applications in one statement.
//! Not used by the server. The arms differ because the row generators differ (a recursive CTE
//! on SQLite, generate_series on PostgreSQL); the rows are the same.

use super::{Backend, DbResult, Pool, Storage};

const COLUMNS: &str = "application_id, hall_reference, certificate_serial, status, version, \
        row_version, applicant_name, id_type, id_number, mobile, email, payment_channel, \
        out_trade_no, amount_fen, paid_at, invoice_wanted, submitted_at, received_at, \
        review_due_at, claimed_by, created_at, updated_at";

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
            "case when i % 5 = 0 then (case when i % 10 = 0 then 'in_review' else 'submitted' end) \
                when i % 5 = 1 then 'accepted' when i % 5 = 2 then 'shipped' when i % 5 = 3 then \
                'returned' else 'in_production' end"
        };
        let due = if all_open {
            "case when i % 100 = 0 then $1 - 86400000 else $1 + 60000 + (i % 1728000) * 1000 end"
        } else {
            "$1 - 864000000 + (i % 1728000) * 1000"
        };
        let sql = match &self.write {
            Pool::Sqlite(_) => format!(
                "with recursive seq(i) as (select $2 union all select i + 1 from seq where i < $2 \
                    + $3 - 1) insert into applications ({COLUMNS}) {} \
                from seq",
                row_expr(Backend::Sqlite, status, due, all_open, &GENERATED_PAYMENT)
            ),
            Pool::Postgres(_) => format!(
                "insert into applications ({COLUMNS}) {} \
                from generate_series($2::bigint, $2::bigint + $3::bigint - 1) as i",
                row_expr(Backend::Postgres, status, due, all_open, &GENERATED_PAYMENT)
            ),
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

/// SQL for the payment columns (channel, out_trade_no, amount_fen, paid_at) of row `i`.
struct PaymentSql<'a> {
    channel: &'a str,
    order: &'a str,
    amount: &'a str,
    paid_at: &'a str,
}

/// The queue benchmarks' payments: order SZCA + i, 200 yuan, paid over the last ten days.
const GENERATED_PAYMENT: PaymentSql<'static> = PaymentSql {
    channel: "case when i % 3 = 0 then 'alipay' else 'wechat' end",
    order: "'SZCA' || {lpad16}",
    amount: "20000",
    paid_at: "$1 - (i % 864000) * 1000",
};

/// The row of application `i` (the select list; `$1` is now).
fn row_expr(backend: Backend, status: &str, due: &str, all_open: bool, pay: &PaymentSql) -> String {
    // Per row i: id BF2026MMDD-NNNNNN with 900,000 ids per day-part.
    let (cat, lpad8, lpad16) = match backend {
        Backend::Sqlite => (
            "'BF' || (20260101 + i / 900000) || '-' || substr('000000' || (i % 900000), -6)",
            "substr('00000000' || i, -8)",
            "substr('0000000000000000' || i, -16)",
        ),
        Backend::Postgres => (
            "'BF' || (20260101 + i / 900000) || '-' || lpad((i % 900000)::text, 6, '0')",
            "lpad(i::text, 8, '0')",
            "lpad(i::text, 16, '0')",
        ),
    };
    let sql = format!(
        "select {cat}, 'H' || i, '0150' || {lpad16}, {status}, 1 + (i % 7 = 0), 1, '测试' || i, \
            'resident_id', '11010519491231002X', '138' || {lpad8}, 'user' || i || '@example.com', \
            {channel}, {order}, {amount}, {paid_at}, i % 2 = 0, $1 - (i % 864000) * 1000, $1 - (i \
            % 864000) * 1000, {due}, case when i % 10 = 0 and {open} then 'staff:reviewer' else \
            null end, $1, $1",
        open = if all_open { "1 = 0" } else { "1 = 1" },
        channel = pay.channel,
        order = pay.order.replace("{lpad16}", lpad16),
        amount = pay.amount,
        paid_at = pay.paid_at,
    );
    match backend {
        Backend::Sqlite => sql,
        Backend::Postgres => sql
            .replace("1 + (i % 7 = 0)", "1 + (i % 7 = 0)::int")
            .replace("i % 2 = 0,", "(i % 2 = 0),"),
    }
}

impl Storage {
    /// Adds one application per `(out_trade_no, amount_fen)`, numbered from `start`, paid through
    /// `channel` at some second of `[paid_from, paid_from + 24 h)` (the reconciliation benchmark's
    /// applications, matching a generated bill); statuses and deadlines as
    /// [`Storage::seed_synthetic_applications`]. One statement per call: keep calls to ~5,000 rows.
    pub async fn seed_synthetic_payments(
        &self,
        start: i64,
        payments: &[(&str, i64)],
        channel: &str,
        paid_from: i64,
        now: i64,
    ) -> DbResult<u64> {
        if payments.is_empty() {
            return Ok(0);
        }
        let status = "case when i % 5 = 0 then (case when i % 10 = 0 then 'in_review' else \
                'submitted' end) when i % 5 = 1 then 'accepted' when i % 5 = 2 then 'shipped' when \
                i % 5 = 3 then 'returned' else 'in_production' end";
        let due = "$1 - 864000000 + (i % 1728000) * 1000";
        // Literals rather than parameters for what every row shares: SQLite looks a numbered
        // parameter up by a linear search per bind, so the values must be anonymous `?` there.
        assert!(
            channel.bytes().all(|b| b.is_ascii_lowercase()),
            "a channel code"
        );
        let channel_sql = format!("'{channel}'");
        let paid_sql = format!("{paid_from} + (i * 7919 % 86400) * 1000");
        let pay = PaymentSql {
            channel: &channel_sql,
            order: "p.o",
            amount: "p.f",
            paid_at: &paid_sql,
        };
        let backend = self.backend();
        let mut values = String::with_capacity(payments.len() * 24);
        for k in 0..payments.len() {
            if k > 0 {
                values.push(',');
            }
            match backend {
                Backend::Sqlite => values.push_str("(?, ?, ?)"),
                Backend::Postgres => {
                    let b = 1 + k * 3;
                    values.push_str(&format!("(${}, ${}, ${})", b, b + 1, b + 2));
                }
            }
        }
        let sql = format!(
            "with p(i, o, f) as (values {values}) insert into applications ({COLUMNS}) {} from p",
            row_expr(backend, status, due, false, &pay).replace("$1", &now.to_string())
        );
        let mut tx = self.begin().await?;
        let n = crate::on_tx!(&mut tx, |c| {
            let mut q = sqlx::query(&sql);
            for (k, (order, fen)) in payments.iter().enumerate() {
                q = q.bind(start + k as i64).bind(*order).bind(*fen);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(n)
    }
}

/// The body every synthetic produced application carries (only its mailing address is read).
const PRODUCED_BODY: &str = r#"{"mailing_address":{"recipient":"张三","mobile":"13800138000","province":"广东省","city":"深圳市","district":"南山区","detail":"科技园南区深圳湾科技生态园10栋A座1201","postcode":"518057"}}"#;

impl Storage {
    /// Adds `n` applications numbered from `start`, all produced and ready to ship, each with its
    /// version body (the fulfilment benchmark's parcels).
    pub async fn seed_synthetic_produced(&self, start: i64, n: i64, now: i64) -> DbResult<u64> {
        let status = "'in_production'";
        let due = "$1";
        let insert = match &self.write {
            Pool::Sqlite(_) => format!(
                "with recursive seq(i) as (select $2 union all select i + 1 from seq where i < $2 \
                    + $3 - 1) insert into applications ({COLUMNS}) {} \
                from seq",
                row_expr(Backend::Sqlite, status, due, false, &GENERATED_PAYMENT)
            ),
            Pool::Postgres(_) => format!(
                "insert into applications ({COLUMNS}) {} \
                from generate_series($2::bigint, $2::bigint + $3::bigint - 1) as i",
                row_expr(Backend::Postgres, status, due, false, &GENERATED_PAYMENT)
            ),
        };
        let mut tx = self.begin().await?;
        let added = crate::on_tx!(&mut tx, |c| sqlx::query(&insert)
            .bind(now)
            .bind(start)
            .bind(n)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        crate::on_tx!(&mut tx, |c| {
            sqlx::query(
                "insert into application_versions (application_id, version, body, received_at) \
                select a.application_id, a.version, $1, a.received_at \
                from applications a \
                where a.status = 'in_production' and not exists (select 1 from \
                    application_versions v where v.application_id = a.application_id and v.version \
                    = a.version)",
            )
            .bind(PRODUCED_BODY)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(added)
    }
}

impl Storage {
    /// The supervision benchmark's history over the applications already seeded: a decision
    /// (by one of ten reviewers, returns with a reason) and its closed review window for every
    /// decided application, and `events_per_application` timeline events for each.
    pub async fn seed_synthetic_history(&self, events_per_application: i64) -> DbResult<u64> {
        let reviewer = "'staff:r' || substr(hall_reference, length(hall_reference), 1)";
        let steps = [
            format!(
                "insert into decisions (application_id, version, outcome, decided_by, decided_at, \
                    note) \
                select application_id, version, case when status = 'returned' then 'returned' else \
                    'accepted' end, {reviewer}, received_at + 3600000 * (1 + \
                    length(hall_reference) % 5) * 17, null \
                from applications \
                where status not in ('submitted', 'in_review')"
            ),
            "insert into decision_reasons (decision_id, position, code, text_shown) \
            select decision_id, 1, case substr(application_id, length(application_id), 1) when '1' \
                then 'form_unsigned' when '2' then 'id_front_unclear' when '3' then \
                'name_mismatch' when '4' then 'liveness_mismatch' else 'other' end, '' \
            from decisions \
            where outcome = 'returned'"
                .to_owned(),
            "insert into review_windows (application_id, version, due_at, decided_at) \
            select d.application_id, d.version, a.review_due_at, d.decided_at \
            from decisions d \
            join applications a on a.application_id = d.application_id"
                .to_owned(),
        ];
        let mut total = 0;
        for sql in &steps {
            let mut tx = self.begin().await?;
            total += crate::on_tx!(&mut tx, |c| sqlx::query(sql)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
            tx.commit().await?;
        }
        let seq = match &self.write {
            Pool::Sqlite(_) => format!(
                "(with recursive k(n) as (select 1 union all select n + 1 from k where n < \
                    {events_per_application}) select n from k)"
            ),
            Pool::Postgres(_) => {
                format!("(select generate_series(1, {events_per_application}) as n)")
            }
        };
        let events = format!(
            "insert into application_events (application_id, at, status, actor, note) \
            select a.application_id, a.received_at + s.n * 60000, a.status, 'system', null \
            from applications a cross \
            join {seq} s"
        );
        let mut tx = self.begin().await?;
        total += crate::on_tx!(&mut tx, |c| sqlx::query(&events)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(total)
    }
}

impl Storage {
    /// Adds `n` unsealed audit records numbered from `start` (`benches/audit_chain.rs`): a
    /// decision-like record each, `per_day` records per Beijing day from `from` on.
    pub async fn seed_synthetic_audit(
        &self,
        start: i64,
        n: i64,
        from: i64,
        per_day: i64,
    ) -> DbResult<u64> {
        let select = "select $1 + (i / $4) * 86400000 + (i % $4), 'staff:reviewer' || (i % 50), \
                'application.accepted', 'application', 'BF20261125-' || i, \
                '{\"status\":\"in_review\",\"row_version\":3}', \
                '{\"status\":\"accepted\",\"row_version\":4,\"reasons\":[]}', 'req-' || i";
        let sql = match &self.write {
            Pool::Sqlite(_) => format!(
                "with recursive seq(i) as (select $2 union all select i + 1 from seq where i < $2 \
                    + $3 - 1) insert into audit_log (at, actor, action, subject_type, subject_id, \
                    before_state, after_state, request_id) {select} \
                from seq"
            ),
            Pool::Postgres(_) => format!(
                "insert into audit_log (at, actor, action, subject_type, subject_id, before_state, \
                    after_state, request_id) {select} \
                from generate_series($2::bigint, $2::bigint + $3::bigint - 1) as i"
            ),
        };
        let mut tx = self.begin().await?;
        let n = crate::on_tx!(&mut tx, |c| sqlx::query(&sql)
            .bind(from)
            .bind(start)
            .bind(n)
            .bind(per_day)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(n)
    }

    /// The insert path as it was before the chain (the benchmark's baseline): drops the
    /// chain's two indexes, so an insert maintains what it maintained before.
    pub async fn drop_audit_chain_indexes(&self) -> DbResult<()> {
        let mut tx = self.begin().await?;
        for sql in [
            "drop index audit_log_unsealed",
            "drop index audit_log_chain_pos",
        ] {
            crate::on_tx!(&mut tx, |c| sqlx::query(sql).execute(c).await.map(|_| ()))?;
        }
        tx.commit().await
    }

    /// The supervision benchmarks' database: `n` applications (as
    /// [`Storage::seed_synthetic_applications`]), their history with `events_per_application`
    /// events each, the summary folded and, on PostgreSQL, the statistics gathered. Returns the
    /// history rows added.
    pub async fn seed_synthetic_supervision(
        &self,
        n: i64,
        events_per_application: i64,
        now: i64,
    ) -> DbResult<u64> {
        let mut done = 0;
        while done < n {
            done += self
                .seed_synthetic_applications(done + 1, (n - done).min(100_000), now)
                .await? as i64;
        }
        let history = self.seed_synthetic_history(events_per_application).await?;
        self.compact_supervision_counts().await?;
        if let Pool::Postgres(p) = &self.write {
            sqlx::query("analyze").execute(p).await?;
        }
        Ok(history)
    }
}
