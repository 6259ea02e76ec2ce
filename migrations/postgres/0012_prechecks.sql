-- Machine pre-checks of the scans (issue 12): hints for the reviewer, never decisions.

-- One job per application version, queued in the transaction that stores the version, so a
-- submission or resubmission is pre-checked exactly once even across restarts. A worker claims a
-- job with a lease (claim_token, lease_until); only the holder of the current lease can finish it.
create table precheck_jobs (
    application_id text not null references applications (application_id),
    version        bigint not null,
    status         text not null default 'pending' check (status in ('pending', 'done', 'superseded', 'failed')),
    attempts       bigint not null default 0,
    lease_until    bigint not null default 0,
    claim_token    text,
    last_error     text,
    created_at     bigint not null,
    updated_at     bigint not null,
    primary key (application_id, version)
);
create index precheck_jobs_due on precheck_jobs (status, lease_until);

-- What each check found on each scan of a version. `flagged` marks a hint for the reviewer;
-- `detail` is what was read (a number, a name, a date), a measure, or the other application of a
-- reused photo; `region` the place read, as JSON fractions {x, y, w, h} of the upright scan.
-- The reviewer's verdict on a hint ('confirmed' or 'dismissed') is kept for the precision page.
create table precheck_findings (
    application_id text not null references applications (application_id),
    version        bigint not null,
    kind           text not null,
    check_name     text not null check (check_name in ('id_number', 'name', 'valid_until', 'blurred', 'too_dark',
                       'too_bright', 'too_small', 'rotation', 'signature_blank', 'reused_photo', 'unreadable_file')),
    outcome        text not null,
    flagged        boolean not null,
    detail         text,
    region         text,
    verdict        text check (verdict in ('confirmed', 'dismissed')),
    verdict_by     text,
    verdict_at     bigint,
    created_at     bigint not null,
    primary key (application_id, version, kind, check_name)
);
create index precheck_findings_flagged on precheck_findings (application_id, flagged);

-- Perceptual hashes of photos (liveness photo, the card's portrait) to find one used twice.
create table scan_photo_hashes (
    application_id text not null references applications (application_id),
    version        bigint not null,
    kind           text not null,
    photo_hash     text not null,
    created_at     bigint not null,
    primary key (application_id, version, kind)
);

-- Reviewers and supervisors judge findings; supervisors and admins read the precision page.
insert into authz_policies (role, path, methods) values
    ('reviewer', '/review/:id/findings', 'POST'), ('supervisor', '/review/:id/findings', 'POST'),
    ('supervisor', '/supervision/prechecks', 'GET'), ('admin', '/supervision/prechecks', 'GET');
