-- Per-client limits of the intake API, per token (a client may hold several while it rotates
-- them): requests per minute, uploads (POST/PUT) in flight at once, and the largest request body.
-- The defaults let a well-behaved hall work unhindered; admins change them at /admin/api-clients.
alter table api_tokens add column rate_per_minute bigint not null default 600
    check (rate_per_minute between 1 and 100000);
alter table api_tokens add column max_concurrent_uploads bigint not null default 32
    check (max_concurrent_uploads between 1 and 1000);
-- 10 MiB + 128 KiB: five maximal scans, the JSON and room for the part headers.
alter table api_tokens add column max_body_bytes bigint not null default 10616832
    check (max_body_bytes between 1024 and 1073741824);

-- Token use per Beijing calendar day (YYYY-MM-DD), added to by each instance every few seconds.
create table api_token_usage (
    token_id      bigint not null references api_tokens (token_id),
    day           text not null,
    requests      bigint not null default 0,
    errors        bigint not null default 0,
    -- refused by a limit (429/413 before the handler); counted in errors too
    limited       bigint not null default 0,
    last_used_at  bigint not null,
    primary key (token_id, day)
);

-- The reference of the API is public (the hall's developers read it without a token); the
-- hall's token may try any method, so an unknown one gets 405 with Allow from the router.
update authz_policies set methods = '[A-Z]+' where role = 'api_client' and path = '/api/v1/*';
insert into authz_policies (role, path, methods) values
    ('anonymous', '/api/v1/openapi.json', 'GET'), ('anonymous', '/api/v1/docs', 'GET'),
    ('admin', '/api/v1/openapi.json', 'GET'), ('admin', '/api/v1/docs', 'GET'),
    ('supervisor', '/api/v1/openapi.json', 'GET'), ('supervisor', '/api/v1/docs', 'GET'),
    ('reviewer', '/api/v1/openapi.json', 'GET'), ('reviewer', '/api/v1/docs', 'GET'),
    ('finance', '/api/v1/openapi.json', 'GET'), ('finance', '/api/v1/docs', 'GET'),
    ('fulfillment', '/api/v1/openapi.json', 'GET'), ('fulfillment', '/api/v1/docs', 'GET'),
    ('hotline', '/api/v1/openapi.json', 'GET'), ('hotline', '/api/v1/docs', 'GET'),
    ('admin', '/admin/api-clients', 'GET'), ('admin', '/admin/api-clients/:id', 'POST');
