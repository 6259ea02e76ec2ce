-- Signed webhooks to the API clients (issue 23, item 1). Each client may set one endpoint and
-- its signing secret; every status change seen from outside, and every invoice issued, is
-- queued for each endpoint in the transaction of the change, and delivered by a job with
-- retries, backoff and parking (as the e-mail outbox is). Each attempt's answer is kept.
create table webhook_endpoints (
    -- the API client's name (api_tokens.name): it outlives a rotation of its tokens
    client           text primary key,
    url              text not null,
    -- whsec_<base64>: signs every delivery
    secret           text not null,
    -- the secret before the last rotation, signing too until previous_until
    previous_secret  text,
    previous_until   bigint,
    created_at       bigint not null,
    updated_at       bigint not null
);

create table webhook_deliveries (
    delivery_id     bigint generated always as identity primary key,
    client          text not null,
    -- webhook-id: the same for every attempt of this event (the receiver's idempotency key)
    event_id        text not null,
    event_type      text not null,
    application_id  text,
    -- the JSON body as signed, fixed when the event happened
    payload         text not null,
    status          text not null default 'pending' check (status in ('pending', 'delivered', 'parked')),
    attempts        bigint not null default 0,
    next_attempt_at bigint not null,
    claim_token     text,
    last_status     bigint,
    last_error      text,
    created_at      bigint not null,
    delivered_at    bigint,
    unique (client, event_id)
);
create index webhook_deliveries_due on webhook_deliveries (status, next_attempt_at);
create index webhook_deliveries_client on webhook_deliveries (client, delivery_id);

-- Every attempt and what the endpoint answered (status, the body's first bytes) or the error.
create table webhook_attempts (
    attempt_id   bigint generated always as identity primary key,
    delivery_id  bigint not null references webhook_deliveries (delivery_id),
    at           bigint not null,
    http_status  bigint,
    body_head    text,
    error        text,
    duration_ms  bigint not null
);
create index webhook_attempts_delivery on webhook_attempts (delivery_id, attempt_id);

insert into authz_policies (role, path, methods) values
    ('admin', '/admin/api-clients/:id/webhook', 'POST'),
    ('admin', '/admin/api-clients/:id/deliveries', 'GET'),
    ('admin', '/admin/webhook-deliveries/:id/resend', 'POST');
