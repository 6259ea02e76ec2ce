-- The tamper-evident audit trail (issue 10, part 3).
-- Inserts stay as they were: cheap and unserialised, inside the caller's transaction. A sealing
-- step (a scheduled job every few seconds, and `verify-audit` before it checks) gives unsealed
-- records the next chain position in audit_id order and stores
--   hash = SHA-256(previous hash || canonical encoding of the record, its position included),
-- under the single writer (SQLite) or an advisory lock (PostgreSQL), so exactly once.
alter table audit_log add column chain_pos bigint;
alter table audit_log add column hash text;
create unique index audit_log_chain_pos on audit_log (chain_pos) where chain_pos is not null;
-- What the sealer reads next: small, as sealed rows leave it.
create index audit_log_unsealed on audit_log (audit_id) where chain_pos is null;

-- One row per Beijing day of the chain: its first and last position and the hash of its last
-- record, so verification can go day by day and the anchor can be written down or sent out.
-- A record's day is the Beijing day of its `at`, but never earlier than its predecessor's.
create table audit_anchors (
    day        text primary key,
    first_pos  bigint not null,
    last_pos   bigint not null,
    last_hash  text not null,
    records    bigint not null,
    updated_at bigint not null
);

-- The admin page of the latest anchor, and sending it to the auditor.
insert into authz_policies (role, path, methods) values
    ('admin', '/admin/audit', 'GET'), ('admin', '/admin/audit/anchor-mail', 'POST');

-- /metrics counts imports from the audit trail; this index holds only those records.
create index audit_log_imports on audit_log (action)
    where action in ('certificates.imported', 'calendar.imported', 'payments.imported', 'invoices.imported', 'tracking.imported');

-- /metrics: only the scraper's bearer token (the subject `metrics`) may read it.
insert into authz_policies (role, path, methods) values ('metrics', '/metrics', 'GET');

-- Retention (issue 10, part 5): when the application's personal data was replaced by a
-- tombstone, its certificate being past its expiry by the configured years.
alter table applications add column erased_at bigint;
