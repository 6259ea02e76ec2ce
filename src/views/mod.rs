//! HTML views (maud): pure functions from view models to markup; no I/O.

pub mod admin;
pub mod api_clients;
pub mod api_docs;
pub mod approvals;
pub mod assignment;
pub mod components;
pub mod finance;
pub mod fulfilment;
pub mod hotline;
pub mod imports;
pub mod labels;
pub mod layout;
pub mod login;
pub mod mail;
pub mod notes;
pub mod prechecks;
pub mod queue_tools;
pub mod returned_parts;
pub mod review;
pub mod revocations;
pub mod scans;
pub mod sla;
pub mod supervision;
pub mod texts;
pub mod webhooks;

/// The pages' Content Security Policy: what the markup here may load (no inline style or
/// script). The web layer sets it on every response that has none of its own.
pub const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
     frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
