//! Back office for lost-media certificate replacement (介质遗失补办) at a Shenzhen CA.

/// Staff passwords (argon2) and the role names.
pub mod auth;
/// The subcommands of operations.md.
pub mod cli;
/// The time source (system, or pinned in tests and jobs).
pub mod clock;
/// Settings: defaults → TOML → environment → flags.
pub mod config;
/// Demo data for a newcomer's first look.
pub mod demo;
/// The desks' work (intake, review, hotline, finance, invoicing, fulfilment, supervision): one
/// transaction per action, called by the pages, the API, the CLI and the jobs.
pub mod desks;
/// Pure domain: validated types, the status machine, the working-day calendar.
pub mod domain;
/// Files in and out: spreadsheets, registry imports.
pub mod exchange;
/// Scheduled work: SLA sweep, reminders, digests, outbox delivery.
pub mod jobs;
/// Sending e-mail over SMTP (lettre).
pub mod mail;
/// The process's Prometheus registry (served by `web::metrics`).
pub mod metrics;
/// Machine pre-checks of the scans: decoding, OCR (tesseract), the pure checks.
pub mod prechecks;
/// Realistic scans drawn with known content: the demo's and the pre-check corpus'.
pub mod render;
/// The id of the request a task serves (a task-local below storage and web).
pub mod request_id;
/// Sending SMS through Alibaba Cloud SMS (`SendSms`, signed requests).
pub mod sms;
/// Building and running the server.
pub mod startup;
/// All SQL: SQLite and PostgreSQL behind one `Storage`.
pub mod storage;
/// Structured logs.
pub mod telemetry;
/// Outside programs (pdftoppm, tesseract) run with a time limit.
pub mod tools;
/// HTML views (maud).
pub mod views;
/// HTTP: the intake API and the desks.
pub mod web;
/// Posting signed webhooks to the API clients, guarded against server-side request forgery.
pub mod webhook;
