//! HTML views (maud): pure functions from view models to markup; no I/O.

pub mod admin;
pub mod api_clients;
pub mod api_docs;
pub mod components;
pub mod finance;
pub mod fulfilment;
pub mod hotline;
pub mod labels;
pub mod layout;
pub mod login;
pub mod mail;
pub mod prechecks;
pub mod review;
pub mod sla;
pub mod supervision;
pub mod texts;
