-- SMS to the applicant (issue 23, item 2): the outbox carries a second channel. An SMS row's
-- recipient is the mobile, its subject the text as the applicant reads it, its body_text the
-- template parameters as JSON (the template code comes from the settings when it is sent).
-- Each channel's worker claims only its own rows, through this index.
alter table outbox add column channel text not null default 'email' check (channel in ('email', 'sms'));
drop index outbox_due;
create index outbox_due on outbox (channel, next_attempt_at) where status = 'pending';
