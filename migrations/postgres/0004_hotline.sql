-- The hotline desk: search by name (+ the ID number's last four), look-up counting per agent,
-- callers' verifications.
create index applications_name on applications (applicant_name);
create index audit_log_actor on audit_log (actor, action, at);

-- That a caller was verified (never what they said): by whom, how, and the answer.
create table hotline_verifications (
    verification_id bigint generated always as identity primary key,
    application_id text not null references applications (application_id),
    at             bigint not null,
    agent          text not null,
    method         text not null check (method in ('id_last6', 'mobile')),
    matched        boolean not null
);
create index hotline_verifications_app on hotline_verifications (application_id, at);

insert into authz_policies (role, path, methods) values
    ('hotline', '/hotline', 'GET'),
    ('hotline', '/hotline/:id', 'GET'),
    ('hotline', '/hotline/:id/verify', 'POST'),
    ('hotline', '/hotline/:id/note', 'POST'),
    ('supervisor', '/hotline-lookups', 'GET'),
    ('admin', '/hotline-lookups', 'GET');
