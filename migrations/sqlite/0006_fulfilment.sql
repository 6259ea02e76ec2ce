-- The fulfilment desk: production of the new certificate, courier batches, shipments, tracking.

-- Each time a new certificate is made on a new medium for an application.
create table productions (
    production_id      integer primary key,
    application_id     text not null references applications (application_id),
    certificate_serial text not null,
    medium_no          text not null,
    produced_by        text not null,
    produced_at        bigint not null
);
create index productions_app on productions (application_id, produced_at);

create table courier_batches (
    batch_id   integer primary key,
    batch_no   text not null unique,
    courier    text not null check (courier in ('sf', 'ems')),
    shipments  bigint not null,
    sha256     text not null,
    file       blob not null,
    created_at bigint not null,
    created_by text not null
);

-- One parcel: batched (in a courier batch, waiting for its waybill), shipped, or returned
-- (undeliverable; the application waits for a re-send under a new order number).
create table shipments (
    shipment_id    integer primary key,
    application_id text not null references applications (application_id),
    batch_id       bigint not null references courier_batches (batch_id),
    order_no       text not null unique,
    courier        text not null,
    waybill        text,
    shipped_at     bigint,
    state          text not null default 'batched' check (state in ('batched', 'shipped', 'returned')),
    return_reason  text,
    returned_at    bigint,
    created_at     bigint not null
);
create index shipments_batch on shipments (batch_id, order_no);
create index shipments_app on shipments (application_id, created_at);
-- An application is in at most one open batch.
create unique index shipments_one_open on shipments (application_id) where state = 'batched';
create unique index shipments_waybill on shipments (courier, waybill) where waybill is not null;

insert into authz_policies (role, path, methods) values
    ('fulfillment', '/fulfilment', 'GET'), ('supervisor', '/fulfilment', 'GET'), ('admin', '/fulfilment', 'GET'),
    ('fulfillment', '/fulfilment/*', 'GET|POST'), ('supervisor', '/fulfilment/*', 'GET'), ('admin', '/fulfilment/*', 'GET');
