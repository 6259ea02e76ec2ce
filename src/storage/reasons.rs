//! The catalogue of return reasons (managed by admins and supervisors).

use super::{DbResult, Storage};
use crate::domain::returned_part::Part;
use crate::{on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow, PartialEq)]
pub struct ReasonRow {
    pub code: String,
    pub text_shown: String,
    pub internal_note: String,
    pub active: bool,
    pub position: i64,
    /// The part the reason is about unless the reviewer picks another; None: general.
    pub default_part: Option<Part>,
}

impl Storage {
    pub async fn return_reasons(&self, active_only: bool) -> DbResult<Vec<ReasonRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, ReasonRow>(
            "select code, text_shown, internal_note, active, position, default_part \
            from return_reasons \
            where active or not $1 \
            order by position, code"
        )
        .bind(active_only)
        .fetch_all(p)
        .await)
    }

    /// Creates or updates a reason, audited.
    pub async fn save_return_reason(&self, r: &ReasonRow, actor: &str, at: i64) -> DbResult<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "insert into return_reasons (code, text_shown, internal_note, active, position, \
                    updated_at, default_part) \
                values ($1, $2, $3, $4, $5, $6, $7) \
                on conflict (code) do update \
                set text_shown = excluded.text_shown, internal_note = excluded.internal_note, \
                    active = excluded.active, position = excluded.position, updated_at = \
                    excluded.updated_at, default_part = excluded.default_part",
            )
            .bind(&r.code)
            .bind(&r.text_shown)
            .bind(&r.internal_note)
            .bind(r.active)
            .bind(r.position)
            .bind(at)
            .bind(r.default_part)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        // The audit record keeps the text and, when there is one, the default part.
        let after = match r.default_part {
            Some(p) => format!("{} [{}]", r.text_shown, p.code()),
            None => r.text_shown.clone(),
        };
        super::audit::record(
            &mut tx,
            &super::audit::AuditEntry {
                at,
                actor,
                action: "return_reason.saved",
                subject_type: "return_reason",
                subject_id: &r.code,
                after: Some(&after),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await
    }
}
