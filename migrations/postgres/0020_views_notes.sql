-- The review desk's saved views, bulk priority and internal notes with mentions (issue 22,
-- items 5 and 6).

-- A supervisor's priority: the queue sorts by (queue_rank, deadline, id), so prioritised
-- applications (rank 0) come first; everything else keeps rank 1. A rank rather than a
-- boolean so that the queue's keyset stays ascending on every key.
alter table applications add column queue_rank bigint not null default 1 check (queue_rank in (0, 1));
create index applications_queue on applications (queue_rank, review_due_at, application_id)
    where status in ('submitted', 'in_review', 'awaiting_approval');

-- A member's saved queue filters: a name and the queue's query string (as parsed and written
-- back by the queue's filter), shown as tabs above the queue.
create table saved_views (
    saved_view_id bigint generated always as identity primary key,
    staff_id      bigint not null references staff (staff_id),
    name          text not null,
    query         text not null,
    created_at    bigint not null,
    unique (staff_id, name)
);

-- Internal notes on an application: staff only; never in the hall's answers or the
-- applicant's mails.
create table application_notes (
    note_id        bigint generated always as identity primary key,
    application_id text not null references applications (application_id),
    author         text not null,
    body           text not null,
    created_at     bigint not null
);
create index application_notes_app on application_notes (application_id, note_id);

-- A colleague named in a note (`@username`): one row per note and colleague, read or not.
create table mentions (
    mention_id     bigint generated always as identity primary key,
    note_id        bigint not null references application_notes (note_id),
    staff_id       bigint not null references staff (staff_id),
    application_id text not null references applications (application_id),
    created_at     bigint not null,
    read_at        bigint,
    unique (note_id, staff_id)
);
create index mentions_inbox on mentions (staff_id, mention_id);
create index mentions_unread on mentions (staff_id) where read_at is null;

insert into authz_policies (role, path, methods) values
    ('reviewer', '/review/views', 'POST'), ('supervisor', '/review/views', 'POST'),
    ('reviewer', '/review/views/:id/delete', 'POST'), ('supervisor', '/review/views/:id/delete', 'POST'),
    ('supervisor', '/review/bulk', 'POST'),
    ('reviewer', '/review/:id/notes', 'POST'), ('supervisor', '/review/:id/notes', 'POST'),
    ('reviewer', '/inbox', 'GET'), ('supervisor', '/inbox', 'GET'),
    ('reviewer', '/inbox/read', 'POST'), ('supervisor', '/inbox/read', 'POST');
