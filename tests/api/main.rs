//! One test binary for everything that goes through the real server: each test runs against a
//! fresh SQLite file and a fresh PostgreSQL database (`both!`), over HTTP on a loopback port.

mod helpers;

mod authz_matrix;
mod browser;
mod certificates;
mod cli;
mod finance;
mod fulfilment;
mod hotline;
mod intake;
mod intake_errors;
mod review_concurrency;
mod review_loop;
mod session_safety;
mod sla;
mod smtp_sink;
mod supervision;
mod supervision_links;
mod supervision_summary;
