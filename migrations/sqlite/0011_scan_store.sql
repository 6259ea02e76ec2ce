-- The scan store's sweep generation: every sweep that may delete bumps it under its lock, so an
-- upload that wrote its objects before a sweep and commits after it checks they are still there.
create table scan_sweeps (
    singleton  integer primary key check (singleton = 1),
    generation bigint not null
);
insert into scan_sweeps (singleton, generation) values (1, 0);

-- Scheduled runs claimed by one instance: the first to insert (job, slot) runs it.
create table job_runs (
    job        text not null,
    slot       text not null,
    started_at bigint not null,
    primary key (job, slot)
);

-- The sweep asks "does any row reference this object?" per batch of objects.
create index application_scans_sha256 on application_scans (sha256);
create index issued_invoices_file_sha256 on issued_invoices (file_sha256) where file_sha256 is not null;
