-- Imports as jobs (issue 21, part 3): the desk's upload stores the file here and queues a job in
-- the transaction of its audit record; a worker (`jobs::imports`) claims it under a lease (on
-- PostgreSQL with `for update skip locked`), runs the desk's import, and stores its result — the
-- counts, and the errors by row and column — for the job's page. The file is dropped once the
-- job has its result. A job whose worker died is claimed again when its lease runs out (the
-- import is one transaction: a worker that died changed nothing).
create table import_jobs (
    job_id      bigint generated always as identity primary key,
    kind        text not null check (kind in ('bills', 'tracking')),
    file_name   text not null,
    file_sha256 text not null,
    file_size   bigint not null,
    file        bytea,
    created_by  text not null,
    state       text not null default 'queued' check (state in ('queued', 'running', 'done', 'failed')),
    done        bigint not null default 0,
    total       bigint not null default 0,
    result      text,
    attempts    bigint not null default 0,
    lease_until bigint not null default 0,
    claim_token text,
    created_at  bigint not null,
    started_at  bigint,
    finished_at bigint,
    updated_at  bigint not null
);
create index import_jobs_due on import_jobs (state, lease_until);
create index import_jobs_kind on import_jobs (kind, job_id);
