-- Assignment by the server (issue 22, item 3). The settings as a supervisor last saved them
-- (one row); until then the configuration's (BACKOFFICE_ASSIGNMENT_*).
create table assignment_settings (
    id         bigint primary key check (id = 1),
    enabled    boolean not null,
    cap        bigint not null check (cap between 1 and 1000),
    updated_by text not null,
    updated_at bigint not null
);

-- Reviewers away (holiday, sick, other): no assignment while away. `until_at` is the instant
-- the absence ends (the start of the day after the last day away); null: until they are back.
create table reviewer_away (
    username text primary key references staff (username),
    kind     text not null check (kind in ('holiday', 'sick', 'other')),
    until_at bigint,
    since_at bigint not null,
    set_by   text not null
);

insert into authz_policies (role, path, methods) values
    ('supervisor', '/supervision/assignment', 'GET|POST'), ('admin', '/supervision/assignment', 'GET'),
    ('supervisor', '/supervision/assignment/hand-back', 'POST'),
    ('reviewer', '/review/away', 'POST'),
    ('reviewer', '/review/hand-back', 'POST');
