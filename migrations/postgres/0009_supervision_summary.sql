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
    count_id bigint generated always as identity primary key,
    figure   text not null,
    day      bigint not null,
    key      text not null,
    n        bigint not null
);
create index supervision_counts_figure on supervision_counts (figure, day, key, n);

-- One function per table: the row's old contribution out (update, delete), its new one in.
create function supervision_applications() returns trigger language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        insert into supervision_counts (figure, day, key, n)
        select 'waiting', (old.received_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review')
        union all select 'due', (old.review_due_at + 28800000) / 86400000, '', -1 where old.status in ('submitted', 'in_review')
        union all select 'rounds', (old.submitted_at + 28800000) / 86400000, cast(old.version as text), -1
        union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', -1 from decisions d
            where old.status in ('accepted', 'in_production') and d.application_id = old.application_id
              and d.version = old.version and d.outcome = 'accepted';
    end if;
    if tg_op <> 'DELETE' then
        insert into supervision_counts (figure, day, key, n)
        select 'waiting', (new.received_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review')
        union all select 'due', (new.review_due_at + 28800000) / 86400000, '', 1 where new.status in ('submitted', 'in_review')
        union all select 'rounds', (new.submitted_at + 28800000) / 86400000, cast(new.version as text), 1
        union all select 'unshipped', (d.decided_at + 28800000) / 86400000, '', 1 from decisions d
            where new.status in ('accepted', 'in_production') and d.application_id = new.application_id
              and d.version = new.version and d.outcome = 'accepted';
    end if;
    return null;
end $$;
create trigger supervision_applications_insert_delete after insert or delete on applications
    for each row execute function supervision_applications();
create trigger supervision_applications_update
    after update of status, version, received_at, submitted_at, review_due_at on applications for each row
    when (old.status is distinct from new.status or old.version is distinct from new.version
          or old.received_at is distinct from new.received_at or old.submitted_at is distinct from new.submitted_at
          or old.review_due_at is distinct from new.review_due_at)
    execute function supervision_applications();

create function supervision_decisions() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        insert into supervision_counts (figure, day, key, n)
        select 'decided', (old.decided_at + 28800000) / 86400000, old.decided_by, -1
        union all select 'unshipped', (old.decided_at + 28800000) / 86400000, '', -1 from applications a
            where old.outcome = 'accepted' and a.application_id = old.application_id
              and a.version = old.version and a.status in ('accepted', 'in_production');
    else
        insert into supervision_counts (figure, day, key, n)
        select 'decided', (new.decided_at + 28800000) / 86400000, new.decided_by, 1
        union all select 'unshipped', (new.decided_at + 28800000) / 86400000, '', 1 from applications a
            where new.outcome = 'accepted' and a.application_id = new.application_id
              and a.version = new.version and a.status in ('accepted', 'in_production');
    end if;
    return null;
end $$;
create trigger supervision_decisions after insert or delete on decisions
    for each row execute function supervision_decisions();

create function supervision_reasons() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        insert into supervision_counts (figure, day, key, n)
        select 'reason', (d.decided_at + 28800000) / 86400000, old.code, -1 from decisions d where d.decision_id = old.decision_id;
    else
        insert into supervision_counts (figure, day, key, n)
        select 'reason', (d.decided_at + 28800000) / 86400000, new.code, 1 from decisions d where d.decision_id = new.decision_id;
    end if;
    return null;
end $$;
create trigger supervision_reasons after insert or delete on decision_reasons
    for each row execute function supervision_reasons();

create function supervision_windows() returns trigger language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        insert into supervision_counts (figure, day, key, n)
        select 'windows', (old.due_at + 28800000) / 86400000, '', -1
        union all select 'breached', (old.due_at + 28800000) / 86400000, '', -1
            where old.decided_at > old.due_at and not exists
                (select 1 from sla_breaches b where b.application_id = old.application_id and b.version = old.version);
    end if;
    if tg_op <> 'DELETE' then
        insert into supervision_counts (figure, day, key, n)
        select 'windows', (new.due_at + 28800000) / 86400000, '', 1
        union all select 'breached', (new.due_at + 28800000) / 86400000, '', 1
            where new.decided_at > new.due_at and not exists
                (select 1 from sla_breaches b where b.application_id = new.application_id and b.version = new.version);
    end if;
    return null;
end $$;
create trigger supervision_windows after insert or update or delete on review_windows
    for each row execute function supervision_windows();

-- A breach replaces its late window in the count (the window was counted while it had none).
create function supervision_breaches() returns trigger language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        insert into supervision_counts (figure, day, key, n)
        select 'breached', (old.due_at + 28800000) / 86400000, '', -1
        union all select 'breached', (w.due_at + 28800000) / 86400000, '', 1 from review_windows w
            where w.application_id = old.application_id and w.version = old.version and w.decided_at > w.due_at;
    end if;
    if tg_op <> 'DELETE' then
        insert into supervision_counts (figure, day, key, n)
        select 'breached', (new.due_at + 28800000) / 86400000, '', 1
        union all select 'breached', (w.due_at + 28800000) / 86400000, '', -1 from review_windows w
            where w.application_id = new.application_id and w.version = new.version and w.decided_at > w.due_at;
    end if;
    return null;
end $$;
create trigger supervision_breaches after insert or update or delete on sla_breaches
    for each row execute function supervision_breaches();

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
