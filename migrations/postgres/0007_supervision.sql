-- Supervision: the dashboard's indexes, quality sampling, the report pages.

-- The dashboard's aggregates read these indexes alone (each holds the columns it groups by):
-- decisions per day, reviewer and outcome; a reviewer's decisions; rounds per submission day;
-- waiting applications per day of receipt; review windows per week of their deadline.
create index decisions_decided on decisions (decided_at, decided_by, outcome);
create index decisions_by on decisions (decided_by, decided_at);
create index applications_submitted on applications (submitted_at, version);
create index applications_waiting_received on applications (received_at)
    where status in ('submitted', 'in_review');
create index review_windows_due on review_windows (due_at, decided_at);
create index shipments_shipped on shipments (shipped_at) where shipped_at is not null;

-- A decision drawn for a second look: a random N per reviewer and week (reproducible from the
-- seed), then a supervisor's verdict. A decision is drawn once.
create table quality_samples (
    sample_id      bigint generated always as identity primary key,
    decision_id    bigint not null unique references decisions (decision_id),
    application_id text not null references applications (application_id),
    reviewer       text not null,
    -- the Monday (Beijing) of the week drawn from
    week           text not null,
    seed           bigint not null,
    drawn_by       text not null,
    drawn_at       bigint not null,
    verdict        text check (verdict in ('agree', 'disagree')),
    verdict_note   text,
    judged_by      text,
    judged_at      bigint,
    created_at     bigint not null,
    updated_at     bigint not null
);
create index quality_samples_week on quality_samples (week, reviewer);

-- Supervisors and admins read the dashboard and the reports; only supervisors judge samples.
insert into authz_policies (role, path, methods) values
    ('supervisor', '/supervision', 'GET'), ('admin', '/supervision', 'GET'),
    ('supervisor', '/supervision/applications', 'GET'), ('admin', '/supervision/applications', 'GET'),
    ('supervisor', '/supervision/quality', 'GET|POST'), ('admin', '/supervision/quality', 'GET'),
    ('supervisor', '/supervision/quality/:id', 'POST'),
    ('supervisor', '/reports', 'GET'), ('admin', '/reports', 'GET'),
    ('supervisor', '/reports/:name', 'GET'), ('admin', '/reports/:name', 'GET'),
    ('supervisor', '/reports/:name/:format', 'GET'), ('admin', '/reports/:name/:format', 'GET');
