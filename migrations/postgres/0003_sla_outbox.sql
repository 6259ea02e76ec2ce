-- The review SLA and the e-mail outbox.

-- Every e-mail the system sends: written in the transaction of the event that causes it,
-- delivered later by a worker. dedup_key makes "queue this once" hold across restarts and
-- instances (a digest per day and address, an escalation per breach and supervisor, …).
create table outbox (
    message_id      bigint generated always as identity primary key,
    dedup_key       text not null unique,
    kind            text not null,
    recipient       text not null,
    subject         text not null,
    body_text       text not null,
    body_html       text not null,
    application_id  text,
    status          text not null default 'pending' check (status in ('pending', 'sent', 'parked')),
    attempts        bigint not null default 0,
    -- a pending message is due at this instant; a worker that claims it moves it ahead (a lease)
    next_attempt_at bigint not null,
    last_error      text,
    created_at      bigint not null,
    sent_at         bigint
);
create index outbox_due on outbox (next_attempt_at) where status = 'pending';

-- One row per review window that passed its deadline undecided (the SLA figures count these).
create table sla_breaches (
    application_id text not null references applications (application_id),
    version        bigint not null,
    due_at         bigint not null,
    recorded_at    bigint not null,
    primary key (application_id, version)
);
create index sla_breaches_due on sla_breaches (due_at);

-- When each review window closed (accepted or returned), for compliance: decided by the deadline?
create table review_windows (
    application_id text not null references applications (application_id),
    version        bigint not null,
    due_at         bigint not null,
    decided_at     bigint not null,
    primary key (application_id, version)
);
create index review_windows_decided on review_windows (decided_at);

-- The review window (version) already escalated; the sweep reads only overdue windows not yet
-- escalated, through this partial index, however many applications wait.
alter table applications add column escalated_version bigint not null default 0;
create index applications_to_escalate on applications (review_due_at)
    where status in ('submitted', 'in_review') and escalated_version < version;

-- The SLA engine's pages.
insert into authz_policies (role, path, methods) values
    ('supervisor', '/sla', 'GET'), ('admin', '/sla', 'GET'),
    ('admin', '/admin/outbox', 'GET'), ('admin', '/admin/outbox/:id/retry', 'POST'),
    ('admin', '/admin/calendar', 'GET|POST'), ('admin', '/admin/calendar/import', 'POST');
