-- Supervision summary: the dashboard's counts per (figure, Beijing day, key), kept by triggers in
-- the same transaction as every change that moves them, so the dashboard sums a few hundred rows
-- instead of aggregating a million. Rows are deltas (+1 / -1): writers only insert, never update a
-- shared row, so concurrent reviewers do not queue on one counter; `compact_supervision_counts`
-- (a job, every minute) folds them into one row per (figure, day, key).
-- Figures (day = (ms + 8 h) / 1 day of the column named):
--   waiting    applications submitted / in review, by received_at
--   due        the same, by review_due_at
--   rounds     applications by submitted_at, key = version
--   unshipped  accepted / in production with an accepted decision of their version, by its decided_at
--   decided    decisions by decided_at, key = decided_by
--   reason     return reasons by their decision's decided_at, key = code
--   windows    review windows by due_at
--   breached   breaches by due_at, plus late windows (decided after due_at) without a breach
-- Decisions and their reasons are never updated (only inserted), so they have no update trigger.
create table supervision_counts (
    count_id integer primary key,
    figure   text not null,
    day      bigint not null,
    key      text not null,
    n        bigint not null
);
create index supervision_counts_figure on supervision_counts (figure, day, key, n);

create trigger supervision_applications_insert after insert on applications begin
    insert into supervision_counts (figure, day, key, n)
    select 'waiting', (new.received_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review')
    union all select 'due', (new.review_due_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review')
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
    select 'waiting', (old.received_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review')
    union all select 'due', (old.review_due_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review')
    union all select 'rounds', (old.submitted_at + 28800000) / 86400000, cast(old.version as text), -1
    union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', -1 from decisions d
        where old.status in ('accepted', 'in_production') and d.application_id = old.application_id
          and d.version = old.version and d.outcome = 'accepted'
    union all select 'waiting', (new.received_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review')
    union all select 'due', (new.review_due_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review')
    union all select 'rounds', (new.submitted_at + 28800000) / 86400000, cast(new.version as text), 1
    union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', 1 from decisions d
        where new.status in ('accepted', 'in_production') and d.application_id = new.application_id
          and d.version = new.version and d.outcome = 'accepted';
end;

create trigger supervision_applications_delete after delete on applications begin
    insert into supervision_counts (figure, day, key, n)
    select 'waiting', (old.received_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review')
    union all select 'due', (old.review_due_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review')
    union all select 'rounds', (old.submitted_at + 28800000) / 86400000, cast(old.version as text), -1
    union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', -1 from decisions d
        where old.status in ('accepted', 'in_production') and d.application_id = old.application_id
          and d.version = old.version and d.outcome = 'accepted';
end;

create trigger supervision_decisions_insert after insert on decisions begin
    insert into supervision_counts (figure, day, key, n)
    select 'decided', (new.decided_at + 28800000) / 86400000, new.decided_by, 1
    union all select 'unshipped', (new.decided_at + 28800000) / 86400000, '', 1 from applications a
        where new.outcome = 'accepted' and a.application_id = new.application_id
          and a.version = new.version and a.status in ('accepted', 'in_production');
end;

create trigger supervision_decisions_delete after delete on decisions begin
    insert into supervision_counts (figure, day, key, n)
    select 'decided', (old.decided_at + 28800000) / 86400000, old.decided_by, -1
    union all select 'unshipped', (old.decided_at + 28800000) / 86400000, '', -1 from applications a
        where old.outcome = 'accepted' and a.application_id = old.application_id
          and a.version = old.version and a.status in ('accepted', 'in_production');
end;

create trigger supervision_reasons_insert after insert on decision_reasons begin
    insert into supervision_counts (figure, day, key, n)
    select 'reason', (d.decided_at + 28800000) / 86400000, new.code, 1 from decisions d where d.decision_id = new.decision_id;
end;

create trigger supervision_reasons_delete after delete on decision_reasons begin
    insert into supervision_counts (figure, day, key, n)
    select 'reason', (d.decided_at + 28800000) / 86400000, old.code, -1 from decisions d where d.decision_id = old.decision_id;
end;

create trigger supervision_windows_insert after insert on review_windows begin
    insert into supervision_counts (figure, day, key, n)
    select 'windows', (new.due_at + 28800000) / 86400000, '', 1
    union all select 'breached', (new.due_at + 28800000) / 86400000, '', 1
        where new.decided_at > new.due_at and not exists
            (select 1 from sla_breaches b where b.application_id = new.application_id and b.version = new.version);
end;

create trigger supervision_windows_update after update on review_windows begin
    insert into supervision_counts (figure, day, key, n)
    select 'windows', (old.due_at + 28800000) / 86400000, '', -1
    union all select 'breached', (old.due_at + 28800000) / 86400000, '', -1
        where old.decided_at > old.due_at and not exists
            (select 1 from sla_breaches b where b.application_id = old.application_id and b.version = old.version)
    union all select 'windows', (new.due_at + 28800000) / 86400000, '', 1
    union all select 'breached', (new.due_at + 28800000) / 86400000, '', 1
        where new.decided_at > new.due_at and not exists
            (select 1 from sla_breaches b where b.application_id = new.application_id and b.version = new.version);
end;

create trigger supervision_windows_delete after delete on review_windows begin
    insert into supervision_counts (figure, day, key, n)
    select 'windows', (old.due_at + 28800000) / 86400000, '', -1
    union all select 'breached', (old.due_at + 28800000) / 86400000, '', -1
        where old.decided_at > old.due_at and not exists
            (select 1 from sla_breaches b where b.application_id = old.application_id and b.version = old.version);
end;

-- A breach replaces its late window in the count (the window was counted while it had none).
create trigger supervision_breaches_insert after insert on sla_breaches begin
    insert into supervision_counts (figure, day, key, n)
    select 'breached', (new.due_at + 28800000) / 86400000, '', 1
    union all select 'breached', (w.due_at + 28800000) / 86400000, '', -1 from review_windows w
        where w.application_id = new.application_id and w.version = new.version and w.decided_at > w.due_at;
end;

create trigger supervision_breaches_update after update on sla_breaches begin
    insert into supervision_counts (figure, day, key, n)
    select 'breached', (old.due_at + 28800000) / 86400000, '', -1
    union all select 'breached', (w.due_at + 28800000) / 86400000, '', 1 from review_windows w
        where w.application_id = old.application_id and w.version = old.version and w.decided_at > w.due_at
    union all select 'breached', (new.due_at + 28800000) / 86400000, '', 1
    union all select 'breached', (w.due_at + 28800000) / 86400000, '', -1 from review_windows w
        where w.application_id = new.application_id and w.version = new.version and w.decided_at > w.due_at;
end;

create trigger supervision_breaches_delete after delete on sla_breaches begin
    insert into supervision_counts (figure, day, key, n)
    select 'breached', (old.due_at + 28800000) / 86400000, '', -1
    union all select 'breached', (w.due_at + 28800000) / 86400000, '', 1 from review_windows w
        where w.application_id = old.application_id and w.version = old.version and w.decided_at > w.due_at;
end;

-- What is already there.
insert into supervision_counts (figure, day, key, n)
select 'waiting', (received_at + 28800000) / 86400000, '', count(*) from applications
    where status in ('submitted', 'in_review') group by (received_at + 28800000) / 86400000
union all select 'due', (review_due_at + 28800000) / 86400000, '', count(*) from applications
    where status in ('submitted', 'in_review') group by (review_due_at + 28800000) / 86400000
union all select 'rounds', (submitted_at + 28800000) / 86400000, cast(version as text), count(*) from applications
    group by (submitted_at + 28800000) / 86400000, version
union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', count(*)
    from applications a join decisions d on d.application_id = a.application_id and d.version = a.version
    where a.status in ('accepted', 'in_production') and d.outcome = 'accepted'
    group by (d.decided_at + 28800000) / 86400000
union all select 'decided', (decided_at + 28800000) / 86400000, decided_by, count(*) from decisions
    group by (decided_at + 28800000) / 86400000, decided_by
union all select 'reason', (d.decided_at + 28800000) / 86400000, r.code, count(*)
    from decisions d join decision_reasons r on r.decision_id = d.decision_id
    group by (d.decided_at + 28800000) / 86400000, r.code
union all select 'windows', (due_at + 28800000) / 86400000, '', count(*) from review_windows
    group by (due_at + 28800000) / 86400000
union all select 'breached', (due_at + 28800000) / 86400000, '', count(*) from sla_breaches
    group by (due_at + 28800000) / 86400000
union all select 'breached', (w.due_at + 28800000) / 86400000, '', count(*) from review_windows w
    where w.decided_at > w.due_at
      and not exists (select 1 from sla_breaches b where b.application_id = w.application_id and b.version = w.version)
    group by (w.due_at + 28800000) / 86400000;
