-- An application awaiting a second reviewer's approval (four eyes, 0016) still waits for review:
-- the summary's 'waiting' and 'due' figures count it, as the queue and the SLA do. The
-- application triggers of 0009 are made again with the wider list, and the two figures rebuilt
-- from the table.
drop trigger supervision_applications_insert;
drop trigger supervision_applications_update;
drop trigger supervision_applications_delete;

create trigger supervision_applications_insert after insert on applications begin
    insert into supervision_counts (figure, day, key, n)
    select 'waiting', (new.received_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review', 'awaiting_approval')
    union all select 'due', (new.review_due_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review', 'awaiting_approval')
    union all select 'rounds', (new.submitted_at + 28800000) / 86400000, cast(new.version as text), 1
    union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', 1 from decisions d
        where new.status in ('accepted', 'in_production') and d.application_id = new.application_id
          and d.version = new.version and d.outcome = 'accepted';
end;

create trigger supervision_applications_update
after update of status, version, received_at, submitted_at, review_due_at on applications
when old.status is not new.status or old.version is not new.version or old.received_at is not new.received_at
  or old.submitted_at is not new.submitted_at or old.review_due_at is not new.review_due_at
begin
    insert into supervision_counts (figure, day, key, n)
    select 'waiting', (old.received_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review', 'awaiting_approval')
    union all select 'due', (old.review_due_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review', 'awaiting_approval')
    union all select 'rounds', (old.submitted_at + 28800000) / 86400000, cast(old.version as text), -1
    union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', -1 from decisions d
        where old.status in ('accepted', 'in_production') and d.application_id = old.application_id
          and d.version = old.version and d.outcome = 'accepted'
    union all select 'waiting', (new.received_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review', 'awaiting_approval')
    union all select 'due', (new.review_due_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review', 'awaiting_approval')
    union all select 'rounds', (new.submitted_at + 28800000) / 86400000, cast(new.version as text), 1
    union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', 1 from decisions d
        where new.status in ('accepted', 'in_production') and d.application_id = new.application_id
          and d.version = new.version and d.outcome = 'accepted';
end;

create trigger supervision_applications_delete after delete on applications begin
    insert into supervision_counts (figure, day, key, n)
    select 'waiting', (old.received_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review', 'awaiting_approval')
    union all select 'due', (old.review_due_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review', 'awaiting_approval')
    union all select 'rounds', (old.submitted_at + 28800000) / 86400000, cast(old.version as text), -1
    union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', -1 from decisions d
        where old.status in ('accepted', 'in_production') and d.application_id = old.application_id
          and d.version = old.version and d.outcome = 'accepted';
end;

delete from supervision_counts where figure in ('waiting', 'due');
insert into supervision_counts (figure, day, key, n)
select 'waiting', (received_at + 28800000) / 86400000, '', count(*) from applications
    where status in ('submitted', 'in_review', 'awaiting_approval') group by (received_at + 28800000) / 86400000
union all select 'due', (review_due_at + 28800000) / 86400000, '', count(*) from applications
    where status in ('submitted', 'in_review', 'awaiting_approval') group by (review_due_at + 28800000) / 86400000;
