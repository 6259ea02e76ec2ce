-- The foundation: staff, API clients, the certificate registry, the working-day calendar,
-- applications with their versions, scans and events, idempotency records and the audit trail.
-- Instants are bigint epoch milliseconds (UTC); money is bigint fen; enums are checked text.
-- The SQLite and PostgreSQL files differ only in how identity keys are declared.

create table staff (
    staff_id      bigint generated always as identity primary key,
    username      text not null unique,
    display_name  text not null,
    email         text,
    role          text not null check (role in ('admin', 'supervisor', 'reviewer', 'finance', 'fulfillment', 'hotline')),
    password_hash text not null,
    disabled      boolean not null default false,
    created_at    bigint not null,
    updated_at    bigint not null
);

-- Several tokens may share a name (rotation); only the SHA-256 of a token is kept.
create table api_tokens (
    token_id    bigint generated always as identity primary key,
    name        text not null,
    token_hash  text not null unique,
    created_at  bigint not null,
    revoked_at  bigint
);
create index api_tokens_name on api_tokens (name);

create table certificates (
    serial            text primary key,
    holder_name       text not null,
    holder_id_type    text not null check (holder_id_type in ('resident_id', 'hk_macau_permit', 'taiwan_permit', 'foreign_passport')),
    holder_id_number  text not null,
    cert_type         text not null,
    valid_from        text not null,
    valid_to          text not null,
    status            text not null check (status in ('valid', 'revoked', 'expired')),
    created_at        bigint not null,
    updated_at        bigint not null
);
create index certificates_holder on certificates (holder_id_number);

-- Days that deviate from Monday–Friday: 'holiday' (放假) or 'workday' (调休上班).
create table calendar_days (
    day   text primary key,
    kind  text not null check (kind in ('holiday', 'workday')),
    name  text not null default ''
);

create table applications (
    application_id     text primary key,
    hall_reference     text not null unique,
    certificate_serial text not null,
    status             text not null check (status in ('submitted', 'in_review', 'returned', 'accepted', 'in_production', 'shipped', 'withdrawn')),
    -- the submission round: 1, then +1 for each resubmission
    version            bigint not null default 1,
    -- bumped by every change; staff actions update "where row_version = seen" so one wins
    row_version        bigint not null default 1,
    applicant_name     text not null,
    id_type            text not null,
    id_number          text not null,
    mobile             text not null,
    email              text not null,
    payment_channel    text not null check (payment_channel in ('wechat', 'alipay')),
    out_trade_no       text not null,
    amount_fen         bigint not null,
    paid_at            bigint not null,
    invoice_wanted     boolean not null,
    submitted_at       bigint not null,
    -- when the current version arrived; the review window counts from its Beijing day
    received_at        bigint not null,
    review_due_at      bigint not null,
    claimed_by         text,
    created_at         bigint not null,
    updated_at         bigint not null
);
create index applications_queue on applications (status, review_due_at);
create index applications_mobile on applications (mobile);
create index applications_serial on applications (certificate_serial);
create index applications_id_number on applications (id_number);
create index applications_trade on applications (out_trade_no);

-- Every version as received: the normalised body, so a resubmission keeps its predecessor.
create table application_versions (
    application_id text not null references applications (application_id),
    version        bigint not null,
    body           text not null,
    received_at    bigint not null,
    primary key (application_id, version)
);

-- The scans of each version; the bytes live in the scan store under their SHA-256.
create table application_scans (
    application_id text not null references applications (application_id),
    version        bigint not null,
    kind           text not null check (kind in ('application_form', 'eseal_form', 'id_front', 'id_back', 'liveness_photo')),
    sha256         text not null,
    media_type     text not null,
    size_bytes     bigint not null,
    primary key (application_id, version, kind)
);

-- The timeline: each status reached, and notes.
create table application_events (
    event_id       bigint generated always as identity primary key,
    application_id text not null references applications (application_id),
    at             bigint not null,
    status         text not null,
    actor          text not null,
    note           text
);
create index application_events_app on application_events (application_id, at);

create table decisions (
    decision_id    bigint generated always as identity primary key,
    application_id text not null references applications (application_id),
    version        bigint not null,
    outcome        text not null check (outcome in ('accepted', 'returned')),
    decided_by     text not null,
    decided_at     bigint not null,
    note           text
);
create index decisions_app on decisions (application_id, decided_at);

create table decision_reasons (
    decision_id bigint not null references decisions (decision_id),
    position    bigint not null,
    code        text not null,
    text_shown  text not null,
    primary key (decision_id, position)
);

-- One row per (API client, Idempotency-Key). Claimed first in the request's transaction,
-- so a concurrent duplicate waits on the key and then replays the stored response.
create table idempotency (
    client          text not null,
    idem_key        text not null,
    request_hash    text not null,
    response_status bigint,
    response_body   text,
    created_at      bigint not null,
    primary key (client, idem_key)
);

create table audit_log (
    audit_id     bigint generated always as identity primary key,
    at           bigint not null,
    actor        text not null,
    action       text not null,
    subject_type text not null,
    subject_id   text not null,
    before_state text,
    after_state  text,
    request_id   text
);
create index audit_log_subject on audit_log (subject_type, subject_id);

-- The State Council's 2025–2026 schedule (migrations/calendar-2025-2026.csv), shipped with the system.
insert into calendar_days (day, kind, name) values
    ('2025-01-01', 'holiday', '元旦'),
    ('2025-01-26', 'workday', '春节'),
    ('2025-01-28', 'holiday', '春节'),
    ('2025-01-29', 'holiday', '春节'),
    ('2025-01-30', 'holiday', '春节'),
    ('2025-01-31', 'holiday', '春节'),
    ('2025-02-01', 'holiday', '春节'),
    ('2025-02-02', 'holiday', '春节'),
    ('2025-02-03', 'holiday', '春节'),
    ('2025-02-04', 'holiday', '春节'),
    ('2025-02-08', 'workday', '春节'),
    ('2025-04-04', 'holiday', '清明节'),
    ('2025-04-05', 'holiday', '清明节'),
    ('2025-04-06', 'holiday', '清明节'),
    ('2025-04-27', 'workday', '劳动节'),
    ('2025-05-01', 'holiday', '劳动节'),
    ('2025-05-02', 'holiday', '劳动节'),
    ('2025-05-03', 'holiday', '劳动节'),
    ('2025-05-04', 'holiday', '劳动节'),
    ('2025-05-05', 'holiday', '劳动节'),
    ('2025-05-31', 'holiday', '端午节'),
    ('2025-06-01', 'holiday', '端午节'),
    ('2025-06-02', 'holiday', '端午节'),
    ('2025-09-28', 'workday', '国庆节、中秋节'),
    ('2025-10-01', 'holiday', '国庆节、中秋节'),
    ('2025-10-02', 'holiday', '国庆节、中秋节'),
    ('2025-10-03', 'holiday', '国庆节、中秋节'),
    ('2025-10-04', 'holiday', '国庆节、中秋节'),
    ('2025-10-05', 'holiday', '国庆节、中秋节'),
    ('2025-10-06', 'holiday', '国庆节、中秋节'),
    ('2025-10-07', 'holiday', '国庆节、中秋节'),
    ('2025-10-08', 'holiday', '国庆节、中秋节'),
    ('2025-10-11', 'workday', '国庆节、中秋节'),
    ('2026-01-01', 'holiday', '元旦'),
    ('2026-01-02', 'holiday', '元旦'),
    ('2026-01-03', 'holiday', '元旦'),
    ('2026-01-04', 'workday', '元旦'),
    ('2026-02-14', 'workday', '春节'),
    ('2026-02-15', 'holiday', '春节'),
    ('2026-02-16', 'holiday', '春节'),
    ('2026-02-17', 'holiday', '春节'),
    ('2026-02-18', 'holiday', '春节'),
    ('2026-02-19', 'holiday', '春节'),
    ('2026-02-20', 'holiday', '春节'),
    ('2026-02-21', 'holiday', '春节'),
    ('2026-02-22', 'holiday', '春节'),
    ('2026-02-23', 'holiday', '春节'),
    ('2026-02-28', 'workday', '春节'),
    ('2026-04-04', 'holiday', '清明节'),
    ('2026-04-05', 'holiday', '清明节'),
    ('2026-04-06', 'holiday', '清明节'),
    ('2026-05-01', 'holiday', '劳动节'),
    ('2026-05-02', 'holiday', '劳动节'),
    ('2026-05-03', 'holiday', '劳动节'),
    ('2026-05-04', 'holiday', '劳动节'),
    ('2026-05-05', 'holiday', '劳动节'),
    ('2026-05-09', 'workday', '劳动节'),
    ('2026-06-19', 'holiday', '端午节'),
    ('2026-06-20', 'holiday', '端午节'),
    ('2026-06-21', 'holiday', '端午节'),
    ('2026-09-20', 'workday', '国庆节'),
    ('2026-09-25', 'holiday', '中秋节'),
    ('2026-09-26', 'holiday', '中秋节'),
    ('2026-09-27', 'holiday', '中秋节'),
    ('2026-10-01', 'holiday', '国庆节'),
    ('2026-10-02', 'holiday', '国庆节'),
    ('2026-10-03', 'holiday', '国庆节'),
    ('2026-10-04', 'holiday', '国庆节'),
    ('2026-10-05', 'holiday', '国庆节'),
    ('2026-10-06', 'holiday', '国庆节'),
    ('2026-10-07', 'holiday', '国庆节'),
    ('2026-10-10', 'workday', '国庆节');
