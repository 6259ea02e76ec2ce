//! Staff sessions in the database (so several instances share them) and sign-in throttling.

use super::{DbResult, Storage, staff::StaffRow};
use crate::{on_pool, on_tx};

/// A live session joined with its staff member.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub disabled: bool,
    pub csrf_token: String,
    pub last_seen_at: i64,
}

impl Storage {
    pub async fn create_session(
        &self,
        session_hash: &str,
        staff: &StaffRow,
        csrf: &str,
        at: i64,
    ) -> DbResult<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "insert into staff_sessions (session_hash, staff_id, csrf_token, created_at, last_seen_at) values ($1, $2, $3, $4, $4)"
        )
        .bind(session_hash)
        .bind(staff.staff_id)
        .bind(csrf)
        .bind(at)
        .execute(c)
        .await.map(|r| r.rows_affected())
        })?;
        super::audit::record(
            &mut tx,
            &super::audit::AuditEntry {
                at,
                actor: &format!("staff:{}", staff.username),
                action: "staff.signed_in",
                subject_type: "staff",
                subject_id: &staff.username,
                ..Default::default()
            },
        )
        .await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "delete from login_failures where username = $1"
        )
        .bind(&staff.username)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    pub async fn session(&self, session_hash: &str) -> DbResult<Option<SessionRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, SessionRow>(
            "select s.staff_id, u.username, u.display_name, u.role, u.disabled, s.csrf_token, s.last_seen_at
             from staff_sessions s join staff u on u.staff_id = s.staff_id where s.session_hash = $1"
        )
        .bind(session_hash)
        .fetch_optional(p)
        .await
        })
    }

    /// Marks the session used; done at most once a minute per session to spare the writer.
    pub async fn touch_session(&self, session_hash: &str, at: i64) -> DbResult<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "update staff_sessions set last_seen_at = $1 where session_hash = $2"
        )
        .bind(at)
        .bind(session_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    pub async fn delete_session(&self, session_hash: &str) -> DbResult<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "delete from staff_sessions where session_hash = $1"
        )
        .bind(session_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    /// Signs a session out: deleted, with its audit record, in one transaction.
    pub async fn sign_out(&self, session_hash: &str, username: &str, at: i64) -> DbResult<()> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| sqlx::query(
            "delete from staff_sessions where session_hash = $1"
        )
        .bind(session_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if n > 0 {
            super::audit::record(
                &mut tx,
                &super::audit::AuditEntry {
                    at,
                    actor: &format!("staff:{username}"),
                    action: "staff.signed_out",
                    subject_type: "staff",
                    subject_id: username,
                    ..Default::default()
                },
            )
            .await?;
        }
        tx.commit().await
    }

    /// Counts a sign-in attempt before its password is checked, so parallel attempts see each
    /// other; a successful sign-in clears the user's attempts.
    pub async fn record_login_attempt(&self, username: &str, at: i64) -> DbResult<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "insert into login_failures (username, at) values ($1, $2)"
        )
        .bind(username)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    pub async fn record_login_failure(&self, username: &str, at: i64) -> DbResult<()> {
        let mut tx = self.begin().await?;
        super::audit::record(
            &mut tx,
            &super::audit::AuditEntry {
                at,
                actor: "anonymous",
                action: "staff.sign_in_failed",
                subject_type: "staff",
                subject_id: username,
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn login_failures_since(&self, username: &str, since: i64) -> DbResult<i64> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from login_failures where username = $1 and at >= $2"
        )
        .bind(username)
        .bind(since)
        .fetch_one(p)
        .await)
    }

    /// Changes a password and ends the member's other sessions.
    pub async fn set_password(
        &self,
        staff_id: i64,
        username: &str,
        hash: &str,
        keep_session: &str,
        at: i64,
    ) -> DbResult<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "update staff set password_hash = $1, updated_at = $2 where staff_id = $3"
        )
        .bind(hash)
        .bind(at)
        .bind(staff_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |c| sqlx::query(
            "delete from staff_sessions where staff_id = $1 and session_hash <> $2"
        )
        .bind(staff_id)
        .bind(keep_session)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        super::audit::record(
            &mut tx,
            &super::audit::AuditEntry {
                at,
                actor: &format!("staff:{username}"),
                action: "staff.password_changed",
                subject_type: "staff",
                subject_id: username,
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await
    }
}
