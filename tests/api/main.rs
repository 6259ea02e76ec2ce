//! One test binary for everything that goes through the real server: each test runs against a
//! fresh SQLite file and a fresh PostgreSQL database (`both!`), over HTTP on a loopback port.

mod helpers;

mod api_contract;
mod api_limits;
mod audit_chain;
mod authz_matrix;
mod backup;
mod browser;
mod certificates;
mod cli;
mod corpus;
mod finance;
mod fulfilment;
mod hostile_files;
mod hostile_ranges;
mod hotline;
mod intake;
mod intake_errors;
mod metrics;
mod moto;
mod prechecks;
mod prechecks_job;
mod retention;
mod review_concurrency;
mod review_loop;
mod scan_store;
mod session_safety;
mod sla;
mod smtp_sink;
mod supervision;
mod supervision_links;
mod supervision_summary;
mod two_instances;
