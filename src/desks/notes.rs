//! Internal notes on an application: a reviewer or supervisor writes one (audited); each
//! active colleague on the review desk it mentions (`@username`) finds it in their inbox and,
//! when they have an address, gets an e-mail through the outbox (the link, not the text).
//! Notes stay inside: the hall's API and the applicant's mails never read them.

use super::review::Actor;
use crate::domain::ids::ApplicationId;
use crate::domain::mentions::{NOTE_MAX_CHARS, mentioned};
use crate::storage::{
    Storage, applications,
    audit::{self, AuditEntry},
    mentions, outbox,
};
use crate::views::mail;

#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    #[error("a note needs 1 to {NOTE_MAX_CHARS} characters")]
    Invalid,
    #[error("no such application")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A note written: the colleagues it reached and the names that matched nobody.
#[derive(Debug, Clone)]
pub struct Added {
    pub note_id: i64,
    pub reached: Vec<String>,
    pub unresolved: Vec<String>,
}

/// Writes the note, its mentions, their e-mails and the audit record in one transaction.
pub async fn add(
    storage: &Storage,
    base_url: &str,
    id: &ApplicationId,
    body: &str,
    author: &Actor<'_>,
    at: i64,
) -> Result<Added, NoteError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > NOTE_MAX_CHARS {
        return Err(NoteError::Invalid);
    }
    let names = mentioned(body);
    let me = author.name.trim_start_matches("staff:");
    let mut tx = storage.begin().await?;
    applications::current(&mut tx, id)
        .await?
        .ok_or(NoteError::NotFound)?;
    let note_id = mentions::insert_note(&mut tx, id, author.name, body, at).await?;
    let found = mentions::mentionable(&mut tx, &names).await?;
    let unresolved: Vec<String> = names
        .iter()
        .filter(|n| !found.iter().any(|f| &f.username == *n))
        .cloned()
        .collect();
    let m = mail::note_mention(base_url, me, id.as_str());
    let mut reached = Vec::new();
    // Naming oneself is allowed and shown, but sends nothing.
    for f in found.iter().filter(|f| f.username != me) {
        mentions::insert_mention(&mut tx, note_id, f.staff_id, id, at).await?;
        if let Some(email) = f.email.as_deref().filter(|e| !e.is_empty()) {
            let key = format!("mention:{note_id}:{}", f.username);
            outbox::enqueue_mail(
                &mut tx,
                &key,
                "note_mention",
                email,
                &m,
                Some(id.as_str()),
                at,
            )
            .await?;
        }
        reached.push(f.username.clone());
    }
    let after = serde_json::json!({
        "note_id": note_id,
        "mentioned": reached,
        "unresolved": unresolved,
    })
    .to_string();
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor: author.name,
            action: "application.note_added",
            subject_type: "application",
            subject_id: id.as_str(),
            before: None,
            after: Some(&after),
            request_id: author.request_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Added {
        note_id,
        reached,
        unresolved,
    })
}

/// Marks one mention (or, with None, every mention) of the member read, audited; how many.
pub async fn mark_read(
    storage: &Storage,
    staff_id: i64,
    actor: &str,
    mention_id: Option<i64>,
    at: i64,
) -> Result<u64, sqlx::Error> {
    let mut tx = storage.begin().await?;
    let n = mentions::mark_read(&mut tx, staff_id, mention_id, at).await?;
    if n == 0 {
        tx.rollback().await?;
        return Ok(0);
    }
    let what = mention_id.map_or_else(|| "all".to_owned(), |m| m.to_string());
    audit::record(
        &mut tx,
        &AuditEntry {
            at,
            actor,
            action: "mention.read",
            subject_type: "staff",
            subject_id: actor.trim_start_matches("staff:"),
            before: Some(&what),
            after: Some(&n.to_string()),
            request_id: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}
