//! Staff accounts (passwords as argon2 hashes; the hashing is the caller's).

use super::{DbResult, Exec, Storage, Tx};
use crate::{on_exec, on_pool, on_tx};

#[derive(Debug, Clone)]
pub struct NewStaff<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub role: &'a str,
    pub password_hash: &'a str,
}

pub async fn insert(tx: &mut Tx, s: &NewStaff<'_>, at: i64) -> DbResult<i64> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "insert into staff (username, display_name, email, role, password_hash, created_at, \
                updated_at) \
            values ($1, $2, $3, $4, $5, $6, $6) \
            returning staff_id",
        )
        .bind(s.username)
        .bind(s.display_name)
        .bind(s.email)
        .bind(s.role)
        .bind(s.password_hash)
        .bind(at)
        .fetch_one(c)
        .await
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
}

/// A staff account's columns, as `StaffRow` reads them.
const STAFF_COLUMNS: &str =
    "staff_id, username, display_name, email, role, password_hash, disabled";

impl Storage {
    pub async fn staff_by_username(&self, username: &str) -> DbResult<Option<StaffRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, StaffRow>(&format!(
                "select {STAFF_COLUMNS} from staff where username = $1"
            ))
            .bind(username)
            .fetch_optional(p)
            .await
        })
    }
}

impl Storage {
    /// Creates a staff account and audits it; a taken username is a unique violation.
    pub async fn create_staff(&self, s: &NewStaff<'_>, at: i64, actor: &str) -> DbResult<i64> {
        let mut tx = self.begin().await?;
        let id = insert(&mut tx, s, at).await?;
        super::audit::record(
            &mut tx,
            &super::audit::AuditEntry {
                at,
                actor,
                action: "staff.created",
                subject_type: "staff",
                subject_id: s.username,
                after: Some(s.role),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}

impl Storage {
    pub async fn staff_list(&self) -> DbResult<Vec<StaffRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, StaffRow>(
                "select staff_id, username, display_name, email, role, password_hash, disabled \
                from staff \
                order by username",
            )
            .fetch_all(p)
            .await
        })
    }

    pub async fn staff_by_id(&self, staff_id: i64) -> DbResult<Option<StaffRow>> {
        staff_row(self.read_pool(), staff_id).await
    }

    /// Sets role and disabled flag; disabling ends the member's sessions. Audited.
    pub async fn update_staff(
        &self,
        staff_id: i64,
        role: &str,
        disabled: bool,
        actor: &str,
        at: i64,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        let before = staff_row(&mut tx, staff_id).await?;
        let Some(before) = before else {
            return Ok(false);
        };
        on_tx!(&mut tx, |c| sqlx::query(
            "update staff set role = $1, disabled = $2, updated_at = $3 where staff_id = $4"
        )
        .bind(role)
        .bind(disabled)
        .bind(at)
        .bind(staff_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if disabled || role != before.role {
            on_tx!(&mut tx, |c| sqlx::query(
                "delete from staff_sessions where staff_id = $1"
            )
            .bind(staff_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        let state = |r: &str, d: bool| format!("{r}{}", if d { " (disabled)" } else { "" });
        super::audit::record(
            &mut tx,
            &super::audit::AuditEntry {
                at,
                actor,
                action: "staff.updated",
                subject_type: "staff",
                subject_id: &before.username,
                before: Some(&state(&before.role, before.disabled)),
                after: Some(&state(role, disabled)),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

async fn staff_row(e: impl Into<Exec<'_>>, staff_id: i64) -> DbResult<Option<StaffRow>> {
    on_exec!(e, |c| {
        sqlx::query_as::<_, StaffRow>(&format!(
            "select {STAFF_COLUMNS} from staff where staff_id = $1"
        ))
        .bind(staff_id)
        .fetch_optional(c)
        .await
    })
}
