//! The e-mail outbox. Messages are queued in the transaction of the event that causes them and
//! delivered by a worker: it claims due messages with a lease (on PostgreSQL with
//! `for update skip locked`, so instances never claim the same row), sends them outside any
//! transaction, then marks them sent, or due again later with exponential backoff, or parked
//! after too many failures. Each claim writes a fresh token; marking sent or failed changes
//! the row only while that token is still there, so a send that outlived its lease (and was
//! taken over by another worker) neither sends twice on the record nor turns `sent` back.
//!
//! Two channels share the table: `email` and `sms` (the applicant's mobile; see
//! `domain::sms`). Each channel's worker claims only its own rows, so SMS messages wait while
//! no SMS provider is configured, as e-mails wait without SMTP.

use super::paging::{Bind, Keyed, Kind, Order, Page, PageReq, Sql};
use super::{DbResult, Pool, Storage, Tx};
use crate::domain::ids::ApplicationId;
use crate::{on_pool, on_tx};

#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// "Queue once" key: a second message with the same key is dropped.
    pub dedup_key: &'a str,
    /// `EMAIL` or `SMS`.
    pub channel: &'a str,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub application_id: Option<&'a str>,
}

/// Queues a message; returns false when one with the same key exists already.
pub async fn enqueue(tx: &mut Tx, m: &NewMessage<'_>, at: i64) -> DbResult<bool> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into outbox (dedup_key, kind, recipient, subject, body_text, body_html, \
                application_id, next_attempt_at, created_at, channel) \
            values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) \
            on conflict (dedup_key) do nothing",
        )
        .bind(m.dedup_key)
        .bind(m.kind)
        .bind(m.recipient)
        .bind(m.subject)
        .bind(m.body_text)
        .bind(m.body_html)
        .bind(m.application_id)
        .bind(at)
        .bind(m.channel)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

pub const EMAIL: &str = "email";
pub const SMS: &str = "sms";

/// Queues a rendered e-mail (see `views::mail`); false when its key was queued before.
pub async fn enqueue_mail(
    tx: &mut Tx,
    dedup_key: &str,
    kind: &str,
    recipient: &str,
    mail: &crate::domain::mail::Mail,
    application_id: Option<&str>,
    at: i64,
) -> DbResult<bool> {
    let m = NewMessage {
        dedup_key,
        channel: EMAIL,
        kind,
        recipient,
        subject: &mail.subject,
        body_text: &mail.text,
        body_html: &mail.html,
        application_id,
    };
    enqueue(tx, &m, at).await
}

/// Queues the SMS of an event beside its e-mail (same transaction) when `mobile` is a mainland
/// mobile number; its key is the e-mail's with `sms:` before it. False when not queued.
pub async fn enqueue_sms(
    tx: &mut Tx,
    mail_key: &str,
    mobile: &str,
    sms: &crate::domain::sms::Sms,
    application_id: Option<&str>,
    at: i64,
) -> DbResult<bool> {
    // An erased or mistyped number gets no SMS (the e-mail still goes).
    let Ok(mobile) = crate::domain::contact::Mobile::parse(mobile) else {
        return Ok(false);
    };
    let m = NewMessage {
        dedup_key: &format!("sms:{mail_key}"),
        channel: SMS,
        kind: sms.event.kind(),
        recipient: mobile.as_str(),
        subject: &sms.text,
        body_text: &sms.param_json(),
        body_html: "",
        application_id,
    };
    enqueue(tx, &m, at).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub message_id: i64,
    pub dedup_key: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub application_id: Option<ApplicationId>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// The claim this row was read under (None for rows not read by a claim).
    pub claim_token: Option<String>,
    pub channel: String,
}

const COLUMNS: &str = "message_id, dedup_key, kind, recipient, subject, body_text, body_html, \
        application_id, status, attempts, next_attempt_at, last_error, created_at, sent_at, \
        claim_token, channel";

/// After this many failed attempts a message is parked for an administrator.
pub const MAX_ATTEMPTS: i64 = 8;

impl Keyed for OutboxRow {
    fn key(&self) -> Vec<Bind> {
        vec![Bind::I(self.message_id)]
    }
}

impl Storage {
    /// Claims up to `limit` due messages of `channel` until `lease_until` under a fresh token;
    /// another worker will not see them before then (if this one dies mid-send, they become
    /// due again).
    pub async fn claim_outbox(
        &self,
        channel: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> DbResult<Vec<OutboxRow>> {
        let token = uuid::Uuid::new_v4().to_string();
        let mut tx = self.begin().await?;
        // SQLite: the single writer serialises claims; PostgreSQL: skip rows another instance holds.
        let lock = match &self.write {
            Pool::Sqlite(_) => "",
            Pool::Postgres(_) => "for update skip locked",
        };
        let sql = format!(
            "update outbox \
            set next_attempt_at = $1, claim_token = $4 \
            where message_id in (select message_id from outbox where status = 'pending' and \
                channel = $5 and next_attempt_at <= $2 order by next_attempt_at, message_id \
                limit $3 {lock}) \
            returning {COLUMNS}"
        );
        let rows = on_tx!(&mut tx, |c| sqlx::query_as::<_, OutboxRow>(&sql)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .bind(&token)
            .bind(channel)
            .fetch_all(c)
            .await)?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Marks a claimed message sent; false (and nothing changed) when the claim was lost, i.e.
    /// its lease ran out and another worker took the message over.
    pub async fn mark_sent(&self, row: &OutboxRow, at: i64) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| {
            sqlx::query(
                "update outbox \
                set status = 'sent', sent_at = $1, attempts = attempts + 1, last_error = null, \
                    claim_token = null \
                where message_id = $2 and status = 'pending' and claim_token = $3",
            )
            .bind(at)
            .bind(row.message_id)
            .bind(&row.claim_token)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Records a failed attempt: due again after a backoff that doubles (1 min … 2 h), or parked.
    /// Only while the claim holds: a late failure of a send another worker took over (and may
    /// have delivered) changes nothing. False when the claim was lost.
    pub async fn mark_failed(&self, row: &OutboxRow, error: &str, now: i64) -> DbResult<bool> {
        self.record_failure(row, error, now, false).await
    }

    /// Records a failure that trying again cannot mend (the provider refused the number, the
    /// template or the signature): parked at once for an administrator. False when the claim
    /// was lost.
    pub async fn park_failed(&self, row: &OutboxRow, error: &str, now: i64) -> DbResult<bool> {
        self.record_failure(row, error, now, true).await
    }

    async fn record_failure(
        &self,
        row: &OutboxRow,
        error: &str,
        now: i64,
        park: bool,
    ) -> DbResult<bool> {
        let attempts = row.attempts + 1;
        let status = if park || attempts >= MAX_ATTEMPTS {
            "parked"
        } else {
            "pending"
        };
        let backoff = (60_000i64 << (attempts - 1).min(7)).min(2 * 3_600_000);
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| {
            sqlx::query(
                "update outbox \
                set status = $1, attempts = $2, last_error = $3, next_attempt_at = $4, claim_token \
                    = null \
                where message_id = $5 and status = 'pending' and claim_token = $6",
            )
            .bind(status)
            .bind(attempts)
            .bind(error)
            .bind(now + backoff)
            .bind(row.message_id)
            .bind(&row.claim_token)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// An administrator sends a parked (or failing) message again now.
    pub async fn retry_message(&self, message_id: i64, now: i64, actor: &str) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| {
            sqlx::query(
                "update outbox \
                set status = 'pending', attempts = 0, next_attempt_at = $1 \
                where message_id = $2 and status = 'parked'",
            )
            .bind(now)
            .bind(message_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if n > 0 {
            super::audit::record(
                &mut tx,
                &super::audit::AuditEntry {
                    at: now,
                    actor,
                    action: "outbox.retried",
                    subject_type: "outbox",
                    subject_id: &message_id.to_string(),
                    ..Default::default()
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// E-mails by status, newest first; at most `limit`.
    pub async fn outbox_messages(&self, status: &str, limit: i64) -> DbResult<Vec<OutboxRow>> {
        let req = PageReq::first(limit);
        Ok(self.outbox_messages_page(EMAIL, status, &req).await?.rows)
    }

    /// SMS messages by status, newest first; at most `limit`.
    pub async fn sms_messages(&self, status: &str, limit: i64) -> DbResult<Vec<OutboxRow>> {
        let req = PageReq::first(limit);
        Ok(self.outbox_messages_page(SMS, status, &req).await?.rows)
    }

    /// One page of the messages of `channel` in `status`, newest first, with their count.
    pub async fn outbox_messages_page(
        &self,
        channel: &str,
        status: &str,
        req: &PageReq,
    ) -> DbResult<Page<OutboxRow>> {
        let mut sql = Sql::new(format!("select {COLUMNS} from outbox"));
        sql.push(
            " where channel = ? and status = ?",
            [Bind::S(channel.to_owned()), Bind::S(status.to_owned())],
        );
        let order = Order {
            keys: &[("message_id", Kind::Int)],
            desc: true,
        };
        self.page(&sql, &order, &[], req).await
    }

    /// E-mails in `status`.
    pub async fn outbox_count(&self, status: &str) -> DbResult<i64> {
        self.outbox_count_of(EMAIL, status).await
    }

    pub async fn outbox_count_of(&self, channel: &str, status: &str) -> DbResult<i64> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from outbox where channel = $1 and status = $2"
        )
        .bind(channel)
        .bind(status)
        .fetch_one(p)
        .await)
    }
}
