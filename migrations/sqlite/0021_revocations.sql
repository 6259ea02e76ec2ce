-- Revocation of the lost certificate (issue 23, item 3). An accepted application queues its lost
-- certificate's serial for revocation (reason keyCompromise), in the acceptance's transaction;
-- an imported CRL of the CA marks it revoked. Until then the application stays out of courier
-- batches, unless a supervisor overrides with a reason.
create table revocations (
    revocation_id   integer primary key,
    application_id  text not null unique references applications (application_id),
    -- the lost certificate's serial as the registry prints it
    serial          text not null,
    -- the same as hexadecimal without leading zeros: how a CRL's serial is compared
    serial_key      text not null,
    reason          text not null default 'keyCompromise',
    state           text not null default 'queued' check (state in ('queued', 'revoked')),
    queued_at       bigint not null,
    -- from the CRL entry: its revocation date and reason (null when the entry has none)
    revoked_at      bigint,
    crl_reason      text,
    crl_import_id   bigint,
    override_by     text,
    override_reason text,
    override_at     bigint,
    row_version     bigint not null default 1,
    created_at      bigint not null,
    updated_at      bigint not null
);
create index revocations_state on revocations (state, queued_at);
create index revocations_serial on revocations (serial_key);

-- Each CRL read (page, CLI, the fetch job): what it said and what it changed.
create table crl_imports (
    crl_import_id integer primary key,
    issuer        text not null,
    this_update   bigint not null,
    next_update   bigint not null,
    crl_number    text,
    entries       bigint not null,
    matched       bigint not null,
    sha256        text not null,
    source        text not null,
    imported_by   text not null,
    imported_at   bigint not null
);
create index crl_imports_at on crl_imports (imported_at);

-- Applications already accepted and not yet shipped when this arrives are queued too.
insert into revocations (application_id, serial, serial_key, queued_at, created_at, updated_at)
select application_id, certificate_serial, ltrim(upper(certificate_serial), '0'), updated_at, updated_at, updated_at
from applications
where status in ('accepted', 'in_production');

insert into authz_policies (role, path, methods) values
    ('fulfillment', '/revocations', 'GET'), ('supervisor', '/revocations', 'GET'), ('admin', '/revocations', 'GET'),
    ('fulfillment', '/revocations/serials.xlsx', 'GET'), ('supervisor', '/revocations/serials.xlsx', 'GET'), ('admin', '/revocations/serials.xlsx', 'GET'),
    ('fulfillment', '/revocations/crl', 'POST'), ('supervisor', '/revocations/crl', 'POST'),
    ('supervisor', '/revocations/:id/override', 'POST');
