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
    pub created_at: i64,
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
                "insert into staff_sessions (session_hash, staff_id, csrf_token, created_at, \
                    last_seen_at) \
                values ($1, $2, $3, $4, $4)",
            )
            .bind(session_hash)
            .bind(staff.staff_id)
            .bind(csrf)
            .bind(at)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
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
                "select s.staff_id, u.username, u.display_name, u.role, u.disabled, s.csrf_token, \
                    s.created_at, s.last_seen_at \
                from staff_sessions s \
                join staff u on u.staff_id = s.staff_id \
                where s.session_hash = $1",
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

    /// Counts a sign-in attempt before its password is checked, unless `max` were already
    /// counted for the username since `since`: one step (on PostgreSQL under a transaction lock
    /// on the username, on SQLite under the single writer's `begin immediate`), so parallel
    /// attempts cannot all read a count none of them has yet raised. False: refused, not counted.
    /// A successful sign-in clears the user's attempts.
    pub async fn count_login_attempt(
        &self,
        username: &str,
        at: i64,
        since: i64,
        max: i64,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        super::lock_key(&mut tx, super::LOCK_SIGN_IN, username).await?;
        let counted = on_tx!(&mut tx, |c| {
            sqlx::query(
                "insert into login_failures (username, at) \
                select $1, $2 \
                where (select count(*) from login_failures where username = $1 and at >= $3) < $4",
            )
            .bind(username)
            .bind(at)
            .bind(since)
            .bind(max)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(counted == 1)
    }

    /// Deletes sessions past their idle time or their lifetime, and sign-in attempts older than
    /// `failures_before` (they count for nothing any more). Returns (sessions, attempts) deleted.
    pub async fn purge_sessions(
        &self,
        idle_before: i64,
        created_before: i64,
        failures_before: i64,
    ) -> DbResult<(u64, u64)> {
        let mut tx = self.begin().await?;
        let sessions = on_tx!(&mut tx, |c| sqlx::query(
            "delete from staff_sessions where last_seen_at < $1 or created_at < $2"
        )
        .bind(idle_before)
        .bind(created_before)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let failures = on_tx!(&mut tx, |c| sqlx::query(
            "delete from login_failures where at < $1"
        )
        .bind(failures_before)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok((sessions, failures))
    }

    /// (sessions, sign-in attempts) stored, for the purge's tests and figures.
    pub async fn session_counts(&self) -> DbResult<(i64, i64)> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, (i64, i64)>(
            "select (select count(*) from staff_sessions), (select count(*) from login_failures)"
        )
        .fetch_one(p)
        .await)
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
