-- New statuses: awaiting_approval (four eyes) and expired (returned, never resubmitted).
-- SQLite cannot alter a CHECK; widening one changes nothing on disk, so the table's stored
-- definition is edited in place (the documented procedure for such changes, sqlite.org
-- lang_altertable.html), and the schema reset makes this connection read it again; the tables
-- created below bump the schema version so that every other connection does too.
pragma writable_schema = on;
update sqlite_schema
set sql = replace(sql, '''shipped'', ''withdrawn''))', '''shipped'', ''withdrawn'', ''awaiting_approval'', ''expired''))')
where type = 'table' and name = 'applications';
pragma writable_schema = reset;

-- Four eyes (dual control): an acceptance a rule holds waits for a second reviewer's approval.
-- One row per request; at most one pending per application. `reasons` lists the rules that
-- held it (findings, payment_override, sample), comma-separated.
create table approvals (
    approval_id    integer primary key,
    application_id text not null references applications (application_id),
    version        bigint not null,
    requested_by   text not null,
    requested_at   bigint not null,
    reasons        text not null,
    note           text,
    state          text not null default 'pending' check (state in ('pending', 'approved', 'rejected', 'cancelled')),
    decided_by     text,
    decided_at     bigint,
    decision_note  text
);
create unique index approvals_pending on approvals (application_id) where state = 'pending';
create index approvals_app on approvals (application_id, approval_id);

-- The rules as the admin page last saved them (one row); until then the configuration's.
create table four_eyes_rules (
    id                  bigint primary key check (id = 1),
    unresolved_findings boolean not null,
    payment_override    boolean not null,
    sample_percent      bigint not null check (sample_percent between 0 and 100),
    sample_seed         bigint not null,
    updated_by          text not null,
    updated_at          bigint not null
);

-- The waiting lists (queue, claims, escalation) include applications awaiting approval: the
-- review clock runs until the second decision.
drop index applications_waiting;
create index applications_waiting on applications (review_due_at, application_id)
    where status in ('submitted', 'in_review', 'awaiting_approval');
drop index applications_claimed;
create index applications_claimed on applications (claimed_by, review_due_at)
    where status in ('submitted', 'in_review', 'awaiting_approval');
drop index applications_to_escalate;
create index applications_to_escalate on applications (review_due_at)
    where status in ('submitted', 'in_review', 'awaiting_approval') and escalated_version < version;
-- Returned applications by status for the expiry job.
create index applications_returned on applications (updated_at) where status = 'returned';

insert into authz_policies (role, path, methods) values
    ('reviewer', '/review/:id/approve', 'POST'), ('supervisor', '/review/:id/approve', 'POST'),
    ('reviewer', '/review/:id/reject-approval', 'POST'), ('supervisor', '/review/:id/reject-approval', 'POST'),
    ('admin', '/admin/four-eyes', 'GET|POST');
