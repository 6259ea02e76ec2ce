-- The finance desk: merchant bills and their reconciliation, exceptions, refunds owed, invoices.

-- What the bills say of each application's payment: unverified until a bill line matches it,
-- exception while a case about it is open. Accepting needs 'verified' (or a supervisor's override).
alter table applications add column payment_state text not null default 'unverified'
    check (payment_state in ('unverified', 'verified', 'exception'));

-- One row per imported bill file (a zip gives one per member bill).
create table bill_imports (
    import_id   integer primary key,
    channel     text not null check (channel in ('wechat', 'alipay')),
    sha256      text not null,
    file_name   text not null,
    -- Beijing days, inclusive
    period_from text not null,
    period_to   text not null,
    lines       bigint not null,
    new_lines   bigint not null,
    summary     text not null,
    imported_at bigint not null,
    imported_by text not null
);
create index bill_imports_at on bill_imports (imported_at);

-- Every transaction line once, however often its bill is imported. line_key: a payment is its
-- transaction number, a refund its transaction and refund numbers.
create table bill_lines (
    line_id        integer primary key,
    channel        text not null check (channel in ('wechat', 'alipay')),
    line_key       text not null,
    import_id      bigint not null references bill_imports (import_id),
    line_no        bigint not null,
    kind           text not null check (kind in ('payment', 'refund')),
    at             bigint not null,
    bill_day       text not null,
    transaction_id text not null,
    out_trade_no   text not null,
    amount_fen     bigint not null,
    -- the channel's fee in 1/100,000 yuan, as signed in the file
    fee_e5         bigint not null,
    refund_no      text,
    class          text not null check (class in ('matched', 'amount_mismatch', 'unmatched_payment', 'duplicate_payment', 'refund')),
    application_id text references applications (application_id),
    unique (channel, line_key)
);
create index bill_lines_trade on bill_lines (out_trade_no);
create index bill_lines_app on bill_lines (application_id);
create index bill_lines_day on bill_lines (bill_day, channel);

-- What finance must look at. Closed with a resolution and a note; row_version lets one clerk win.
create table finance_cases (
    case_id        integer primary key,
    kind           text not null check (kind in ('amount_mismatch', 'unmatched_payment', 'missing_payment', 'duplicate_payment', 'refund_owed', 'unexpected_refund')),
    channel        text not null,
    out_trade_no   text not null,
    application_id text references applications (application_id),
    line_id        bigint references bill_lines (line_id),
    amount_fen     bigint not null,
    opened_at      bigint not null,
    state          text not null default 'open' check (state in ('open', 'closed')),
    resolution     text,
    refund_no      text,
    note           text,
    closed_at      bigint,
    closed_by      text,
    row_version    bigint not null default 1
);
create index finance_cases_open on finance_cases (state, kind, opened_at);
create index finance_cases_trade on finance_cases (out_trade_no);
create unique index finance_cases_one_per_line on finance_cases (kind, line_id) where line_id is not null;
create unique index finance_cases_one_missing on finance_cases (application_id, kind) where kind in ('missing_payment', 'refund_owed') and state = 'open';

-- Invoices (数电票): a request per accepted application that asked for one.
create table invoice_requests (
    application_id text primary key references applications (application_id),
    hall_reference text not null,
    title          text not null,
    tax_id         text,
    email          text not null,
    amount_fen     bigint not null,
    state          text not null default 'pending' check (state in ('pending', 'batched', 'issued', 'reversed')),
    -- why it cannot be exported (a rule of the batch layout), shown to the clerk
    problem        text,
    batch_id       bigint,
    serial         text unique,
    invoice_number text,
    created_at     bigint not null,
    updated_at     bigint not null
);
create index invoice_requests_state on invoice_requests (state, created_at);

create table invoice_batches (
    batch_id   integer primary key,
    batch_no   text not null unique,
    requests   bigint not null,
    sha256     text not null,
    file       blob not null,
    created_at bigint not null,
    created_by text not null
);

-- Counters that never go back (invoice serials are never reused).
create table counters (
    name  text primary key,
    value bigint not null
);

create table issued_invoices (
    invoice_number text primary key,
    application_id text references applications (application_id),
    issued_at      bigint not null,
    buyer          text not null,
    amount_fen     bigint not null,
    status         text not null,
    positive       boolean not null,
    -- a red-letter invoice names the blue one it reverses
    reverses       text,
    link           text,
    file_sha256    text,
    file_name      text,
    -- the applicant's e-mail links to /invoice-files/<token> when the file is ours, not a link
    download_token text unique,
    imported_at    bigint not null
);
create index issued_invoices_app on issued_invoices (application_id);

-- Issued-invoice lines the import could not tie to a request: for the clerk, never guessed.
create table invoice_import_issues (
    issue_id       integer primary key,
    invoice_number text not null,
    outcome        text not null check (outcome in ('unmatched', 'ambiguous', 'amount_mismatch')),
    detail         text not null,
    state          text not null default 'open' check (state in ('open', 'closed')),
    created_at     bigint not null,
    unique (invoice_number, outcome)
);

insert into authz_policies (role, path, methods) values
    ('finance', '/finance', 'GET'), ('supervisor', '/finance', 'GET'), ('admin', '/finance', 'GET'),
    ('anonymous', '/invoice-files/:token', 'GET'),
    ('finance', '/finance/*', 'GET|POST'), ('supervisor', '/finance/*', 'GET'), ('admin', '/finance/*', 'GET');
