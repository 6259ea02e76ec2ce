//! A member's saved queue filters ("views"): a name and the queue's query string, at most
//! [`MAX_VIEWS`] each. Saving under a name already used replaces that view's filter.

use super::audit::{self, AuditEntry};
use super::{DbResult, Lock, Storage, advisory_lock};
use crate::{on_pool, on_tx};

/// Views one member may keep.
pub const MAX_VIEWS: i64 = 20;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SavedView {
    pub saved_view_id: i64,
    pub name: String,
    pub query: String,
}

/// Who saves or deletes: the member's id and username (for the lock and the audit record).
pub struct Owner<'a> {
    pub staff_id: i64,
    pub username: &'a str,
}

impl Storage {
    /// The member's views in the order they were first saved.
    pub async fn saved_views(&self, staff_id: i64) -> DbResult<Vec<SavedView>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, SavedView>(
                "select saved_view_id, name, query \
                from saved_views \
                where staff_id = $1 \
                order by saved_view_id",
            )
            .bind(staff_id)
            .fetch_all(p)
            .await
        })
    }

    /// Saves (or replaces) a view and audits it; false when the member has [`MAX_VIEWS`]
    /// already and this name is not one of them. Two saves at once count each other: the
    /// member's lock (PostgreSQL) or the single writer (SQLite) puts them one after the other.
    pub async fn save_view(
        &self,
        who: &Owner<'_>,
        name: &str,
        query: &str,
        at: i64,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        advisory_lock(&mut tx, Lock::SavedViews(who.username)).await?;
        let (count, same_name): (i64, i64) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
                "select count(*), coalesce(sum(case when name = $2 then 1 else 0 end), 0) \
                from saved_views \
                where staff_id = $1",
            )
            .bind(who.staff_id)
            .bind(name)
            .fetch_one(c)
            .await
        })?;
        if same_name == 0 && count >= MAX_VIEWS {
            tx.rollback().await?;
            return Ok(false);
        }
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "insert into saved_views (staff_id, name, query, created_at) \
                values ($1, $2, $3, $4) \
                on conflict (staff_id, name) do update set query = excluded.query",
            )
            .bind(who.staff_id)
            .bind(name)
            .bind(query)
            .bind(at)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        let actor = format!("staff:{}", who.username);
        audit::record(
            &mut tx,
            &AuditEntry {
                at,
                actor: &actor,
                action: "saved_view.saved",
                subject_type: "staff",
                subject_id: who.username,
                before: None,
                after: Some(&format!("{name}: {}", without_search(query))),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes one of the member's own views and audits it; false when they have no such view.
    pub async fn delete_view(
        &self,
        who: &Owner<'_>,
        saved_view_id: i64,
        at: i64,
    ) -> DbResult<bool> {
        let mut tx = self.begin().await?;
        let name: Option<String> = on_tx!(&mut tx, |c| {
            sqlx::query_scalar(
                "delete from saved_views \
                where saved_view_id = $1 and staff_id = $2 \
                returning name",
            )
            .bind(saved_view_id)
            .bind(who.staff_id)
            .fetch_optional(c)
            .await
        })?;
        let Some(name) = name else {
            tx.rollback().await?;
            return Ok(false);
        };
        let actor = format!("staff:{}", who.username);
        audit::record(
            &mut tx,
            &AuditEntry {
                at,
                actor: &actor,
                action: "saved_view.deleted",
                subject_type: "staff",
                subject_id: who.username,
                before: Some(&name),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The filter for the audit chain, its search term left out (it may be a mobile or a serial:
/// personal data the chain cannot erase): `q=…` says a search was saved.
fn without_search(query: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        out.append_pair(&k, if k == "q" { "…" } else { &v });
    }
    out.finish()
}
