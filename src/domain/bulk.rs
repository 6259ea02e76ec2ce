//! A bulk action on picked queue rows, as the desk runs it and the pages show it: the action,
//! a pick (`ID:ROW_VERSION`), and what happened to each row.

use super::ids::ApplicationId;

/// The most applications one bulk action may take.
pub const MAX_SELECTION: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    /// To this reviewer (username).
    Reassign(String),
    Release,
    Prioritise,
    Deprioritise,
}

impl BulkAction {
    pub fn parse(action: &str, to: Option<&str>) -> Option<BulkAction> {
        Some(match action {
            "reassign" => BulkAction::Reassign(to.filter(|t| !t.is_empty())?.to_owned()),
            "release" => BulkAction::Release,
            "prioritise" => BulkAction::Prioritise,
            "deprioritise" => BulkAction::Deprioritise,
            _ => return None,
        })
    }
}

/// One picked row: the application and the row version the queue showed (`ID:VERSION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub id: ApplicationId,
    pub row_version: i64,
}

impl Pick {
    pub fn parse(s: &str) -> Option<Pick> {
        let (id, v) = s.split_once(':')?;
        Some(Pick {
            id: ApplicationId::parse(id)?,
            row_version: v.parse().ok()?,
        })
    }
}

/// Why one row was not changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Someone changed it since the queue was read (or changes it now).
    Conflict,
    /// The action does not fit its state (released while not claimed, decided already, …).
    NotAllowed,
    /// Already as asked (prioritised twice).
    Unchanged,
    NotFound,
    /// The database failed on this row (logged).
    Failed,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Conflict => "conflict",
            Refusal::NotAllowed => "not_allowed",
            Refusal::Unchanged => "unchanged",
            Refusal::NotFound => "not_found",
            Refusal::Failed => "failed",
        }
    }
}

/// What happened to one picked row (`id` as sent when it did not parse).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    pub refused: Option<Refusal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_picks_parse() {
        assert_eq!(BulkAction::parse("reassign", Some("")), None);
        assert_eq!(
            BulkAction::parse("reassign", Some("li")),
            Some(BulkAction::Reassign("li".into()))
        );
        assert_eq!(BulkAction::parse("shred", None), None);
        assert!(Pick::parse("nonsense").is_none());
        assert!(Pick::parse("x:1").is_none());
    }
}
