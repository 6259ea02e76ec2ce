//! One test binary for everything that goes through the real server: each test runs against a
//! fresh SQLite file and a fresh PostgreSQL database (`both!`), over HTTP on a loopback port.

mod helpers;

mod api_contract;
mod api_limits;
mod audit_chain;
mod audit_gaps;
mod authz_matrix;
mod backup;
mod browser;
mod calendar_race;
mod certificates;
mod child_timeouts;
mod cli;
mod corpus;
mod csv_injection;
mod finance;
mod fulfilment;
mod hotline;
mod intake;
mod intake_errors;
mod metrics;
mod moto;
mod outbox_lease;
mod prechecks;
mod prechecks_job;
mod retention;
mod review_concurrency;
mod review_loop;
mod scan_store;
mod session_safety;
mod sla;
mod smtp_sink;
mod smtp_stall;
mod supervision;
mod supervision_links;
mod supervision_summary;
mod two_instances;
