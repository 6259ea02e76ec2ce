-- The review desk: staff sessions, sign-in throttling, the return-reason catalogue, the
-- authorisation policy (casbin, model in roles.conf), and the queue's index.

-- Server-side sessions; the cookie holds a random token, the table only its SHA-256.
create table staff_sessions (
    session_hash  text primary key,
    staff_id      bigint not null references staff (staff_id),
    csrf_token    text not null,
    created_at    bigint not null,
    last_seen_at  bigint not null
);
create index staff_sessions_staff on staff_sessions (staff_id);

-- Failed sign-ins, counted per username over a sliding window.
create table login_failures (
    username text not null,
    at       bigint not null
);
create index login_failures_user on login_failures (username, at);

-- Reasons a reviewer can return an application for: the applicant sees text_shown.
create table return_reasons (
    code          text primary key,
    text_shown    text not null,
    internal_note text not null default '',
    active        boolean not null default true,
    position      bigint not null default 0,
    updated_at    bigint not null default 0
);

insert into return_reasons (code, text_shown, internal_note, position) values
    ('form_unsigned', '申请表未签名，请打印申请表、本人签名后重新上传', '签名框为空或非本人笔迹', 10),
    ('form_incomplete', '申请表信息填写不完整或与网上填写的信息不一致', '核对姓名、证件号码、证书序列号', 20),
    ('eseal_form_missing', '电子印章采集表缺失或不清晰，请重新上传', '', 30),
    ('id_front_unclear', '身份证人像面照片不清晰，请在光线充足处重新拍摄上传', '反光、模糊、裁切', 40),
    ('id_back_unclear', '身份证国徽面照片不清晰，请重新拍摄上传', '', 50),
    ('id_expired', '身份证已过有效期，请使用有效期内的证件办理', '国徽面有效期限', 60),
    ('name_mismatch', '申请人姓名与证件或证书登记信息不一致', '与注册库持有人姓名比对', 70),
    ('liveness_mismatch', '活体照片与身份证人像不符，请本人重新完成活体认证', '人工比对人像', 80),
    ('address_incomplete', '邮寄地址不完整，请补充详细地址', '', 90),
    ('other', '其他原因，详见审核说明', '在补充说明中写明', 100);

-- casbin policy rows: role, path pattern (keyMatch2), methods (regex). Not listed: denied.
create table authz_policies (
    role    text not null,
    path    text not null,
    methods text not null,
    primary key (role, path, methods)
);

insert into authz_policies (role, path, methods) values
    ('anonymous', '/healthz', 'GET'),
    ('anonymous', '/login', 'GET|POST'),
    ('anonymous', '/static/*', 'GET'),
    ('anonymous', '/locale', 'POST'),
    ('api_client', '/api/v1/*', 'GET|POST|PUT'),
    ('admin', '/healthz', 'GET'), ('supervisor', '/healthz', 'GET'), ('reviewer', '/healthz', 'GET'),
    ('finance', '/healthz', 'GET'), ('fulfillment', '/healthz', 'GET'), ('hotline', '/healthz', 'GET'),
    ('admin', '/static/*', 'GET'), ('supervisor', '/static/*', 'GET'), ('reviewer', '/static/*', 'GET'),
    ('finance', '/static/*', 'GET'), ('fulfillment', '/static/*', 'GET'), ('hotline', '/static/*', 'GET'),
    ('admin', '/', 'GET'), ('supervisor', '/', 'GET'), ('reviewer', '/', 'GET'),
    ('finance', '/', 'GET'), ('fulfillment', '/', 'GET'), ('hotline', '/', 'GET'),
    ('admin', '/login', 'GET|POST'), ('supervisor', '/login', 'GET|POST'), ('reviewer', '/login', 'GET|POST'),
    ('finance', '/login', 'GET|POST'), ('fulfillment', '/login', 'GET|POST'), ('hotline', '/login', 'GET|POST'),
    ('admin', '/logout', 'POST'), ('supervisor', '/logout', 'POST'), ('reviewer', '/logout', 'POST'),
    ('finance', '/logout', 'POST'), ('fulfillment', '/logout', 'POST'), ('hotline', '/logout', 'POST'),
    ('admin', '/locale', 'POST'), ('supervisor', '/locale', 'POST'), ('reviewer', '/locale', 'POST'),
    ('finance', '/locale', 'POST'), ('fulfillment', '/locale', 'POST'), ('hotline', '/locale', 'POST'),
    ('admin', '/account/password', 'GET|POST'), ('supervisor', '/account/password', 'GET|POST'),
    ('reviewer', '/account/password', 'GET|POST'), ('finance', '/account/password', 'GET|POST'),
    ('fulfillment', '/account/password', 'GET|POST'), ('hotline', '/account/password', 'GET|POST'),
    -- The review desk: reviewers work it; supervisors also reassign; admins do not review.
    ('reviewer', '/review', 'GET'), ('supervisor', '/review', 'GET'),
    ('reviewer', '/review/next', 'POST'), ('supervisor', '/review/next', 'POST'),
    ('reviewer', '/review/:id', 'GET'), ('supervisor', '/review/:id', 'GET'),
    ('reviewer', '/review/:id/scans/:version/:kind', 'GET'), ('supervisor', '/review/:id/scans/:version/:kind', 'GET'),
    ('reviewer', '/review/:id/claim', 'POST'), ('supervisor', '/review/:id/claim', 'POST'),
    ('reviewer', '/review/:id/release', 'POST'), ('supervisor', '/review/:id/release', 'POST'),
    ('reviewer', '/review/:id/accept', 'POST'), ('supervisor', '/review/:id/accept', 'POST'),
    ('reviewer', '/review/:id/return', 'POST'), ('supervisor', '/review/:id/return', 'POST'),
    ('supervisor', '/review/:id/reassign', 'POST'),
    -- Administration: users for admins; the reason catalogue for admins and supervisors.
    ('admin', '/admin/users', 'GET|POST'),
    ('admin', '/admin/users/:id', 'POST'),
    ('admin', '/admin/reasons', 'GET|POST'), ('supervisor', '/admin/reasons', 'GET|POST');

-- The reviewer queue: waiting applications by deadline, whatever else is in the table, and
-- each reviewer's claimed ones. The general (status, deadline) index goes: with it, SQLite
-- without statistics sorted all waiting rows for every queue page instead of reading in order.
drop index applications_queue;
create index applications_waiting on applications (review_due_at, application_id)
    where status in ('submitted', 'in_review');
create index applications_claimed on applications (claimed_by, review_due_at)
    where status in ('submitted', 'in_review');
