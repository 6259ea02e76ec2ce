//! Internal notes on an application and the colleagues they mention (`@username`), whose
//! desk inbox lists them until read. Staff only: neither the hall's API nor any applicant
//! mail reads these tables.

use super::{DbResult, Storage, Tx};
use crate::domain::ids::ApplicationId;
use crate::{on_pool, on_tx};

/// A note as the application page shows it, with the usernames its mentions reached.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoteRow {
    pub note_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: i64,
    /// Resolved mentions, comma-separated ('' when none).
    pub mentioned: String,
}

impl NoteRow {
    pub fn reached(&self, username: &str) -> bool {
        self.mentioned.split(',').any(|m| m == username)
    }
}

/// A line of a member's inbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboxRow {
    pub mention_id: i64,
    pub application_id: ApplicationId,
    pub author: String,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// A colleague a note may mention: active, and on the review desk.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Mentionable {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
}

pub async fn insert_note(
    tx: &mut Tx,
    id: &ApplicationId,
    author: &str,
    body: &str,
    at: i64,
) -> DbResult<i64> {
    on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "insert into application_notes (application_id, author, body, created_at) \
            values ($1, $2, $3, $4) \
            returning note_id",
        )
        .bind(id)
        .bind(author)
        .bind(body)
        .bind(at)
        .fetch_one(c)
        .await
    })
}

pub async fn insert_mention(
    tx: &mut Tx,
    note_id: i64,
    staff_id: i64,
    id: &ApplicationId,
    at: i64,
) -> DbResult<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into mentions (note_id, staff_id, application_id, created_at) \
            values ($1, $2, $3, $4) \
            on conflict (note_id, staff_id) do nothing",
        )
        .bind(note_id)
        .bind(staff_id)
        .bind(id)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Of these usernames, the active reviewers and supervisors (the others stay plain text).
pub async fn mentionable(tx: &mut Tx, names: &[String]) -> DbResult<Vec<Mentionable>> {
    let mut out = Vec::new();
    for n in names {
        let row = on_tx!(&mut *tx, |c| {
            sqlx::query_as::<_, Mentionable>(
                "select staff_id, username, display_name, email \
                from staff \
                where username = $1 and not disabled and role in ('reviewer', 'supervisor')",
            )
            .bind(n)
            .fetch_optional(c)
            .await
        })?;
        out.extend(row);
    }
    Ok(out)
}

/// Marks one of the member's mentions (or, with None, all of them) read; how many changed.
pub async fn mark_read(
    tx: &mut Tx,
    staff_id: i64,
    mention_id: Option<i64>,
    at: i64,
) -> DbResult<u64> {
    on_tx!(tx, |c| {
        sqlx::query(
            "update mentions set read_at = $3 \
            where staff_id = $1 and read_at is null and ($2 = 0 or mention_id = $2)",
        )
        .bind(staff_id)
        .bind(mention_id.unwrap_or(0))
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })
}

impl Storage {
    /// The application's notes, oldest first.
    pub async fn notes_of(&self, id: &ApplicationId) -> DbResult<Vec<NoteRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, NoteRow>(
                "select n.note_id, n.author, n.body, n.created_at, \
                    coalesce((select string_agg(s.username, ',' order by s.username) \
                        from mentions m join staff s using (staff_id) \
                        where m.note_id = n.note_id), '') as mentioned \
                from application_notes n \
                where n.application_id = $1 \
                order by n.note_id",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })
    }

    /// The member's latest mentions, newest first (`limit` of them).
    pub async fn inbox(&self, staff_id: i64, limit: i64) -> DbResult<Vec<InboxRow>> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_as::<_, InboxRow>(
                "select m.mention_id, m.application_id, n.author, n.body, m.created_at, m.read_at \
                from mentions m join application_notes n using (note_id) \
                where m.staff_id = $1 \
                order by m.mention_id desc \
                limit $2",
            )
            .bind(staff_id)
            .bind(limit)
            .fetch_all(p)
            .await
        })
    }

    /// How many of the member's mentions are unread (the count beside the top bar's link).
    pub async fn unread_mentions(&self, staff_id: i64) -> DbResult<i64> {
        on_pool!(self.read_pool(), |p| {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from mentions where staff_id = $1 and read_at is null",
            )
            .bind(staff_id)
            .fetch_one(p)
            .await
        })
    }
}
