//! The parts a return decision sent back (`decision_parts`), each with its reasons.

use crate::domain::{ids::ApplicationId, returned_part::Part};
use crate::storage::{DbResult, Exec, Storage, Tx};
use crate::{on_exec, on_pool, on_tx};

/// A part to redo and the reasons (code, the applicant's text) that concern it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnedPart {
    pub part: Part,
    pub reasons: Vec<(String, String)>,
}

/// Records which part each reason of the decision is about (reasons not listed are general).
pub async fn insert_parts(tx: &mut Tx, decision_id: i64, parts: &[(String, Part)]) -> DbResult<()> {
    for (code, part) in parts {
        on_tx!(tx, |c| {
            sqlx::query("insert into decision_parts (decision_id, code, part) values ($1, $2, $3)")
                .bind(decision_id)
                .bind(code)
                .bind(part)
                .execute(c)
                .await
                .map(|_| ())
        })?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    part: Part,
    code: String,
    text_shown: String,
}

/// The parts the return of `version` sent back (its latest return, should there be several),
/// scans first in reading order, then fields in the body's order; empty when it was not
/// returned or only for general reasons.
pub async fn returned_parts(
    e: impl Into<Exec<'_>>,
    application_id: &ApplicationId,
    version: i64,
) -> DbResult<Vec<ReturnedPart>> {
    let rows = on_exec!(e, |c| sqlx::query_as::<_, Row>(
        "select p.part, r.code, r.text_shown \
        from decision_parts p \
        join decision_reasons r on r.decision_id = p.decision_id and r.code = p.code \
        where p.decision_id = (select max(decision_id) from decisions where application_id = $1 \
            and version = $2 and outcome = 'returned') \
        order by r.position"
    )
    .bind(application_id)
    .bind(version)
    .fetch_all(c)
    .await)?;
    let mut out: Vec<ReturnedPart> = Vec::new();
    for r in rows {
        match out.iter_mut().find(|p| p.part == r.part) {
            Some(p) => p.reasons.push((r.code, r.text_shown)),
            None => out.push(ReturnedPart {
                part: r.part,
                reasons: vec![(r.code, r.text_shown)],
            }),
        }
    }
    out.sort_by_key(|p| p.part);
    Ok(out)
}

impl Storage {
    /// The application's current version, if it exists.
    pub async fn application_version(&self, id: &ApplicationId) -> DbResult<Option<i64>> {
        on_pool!(self.read_pool(), |p| sqlx::query_scalar::<_, i64>(
            "select version from applications where application_id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)
    }
}
