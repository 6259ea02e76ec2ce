-- Returns by part (issue 22, item 2): a return reason is about a scan or a field of the
-- application, written 'scan:<part name>' or 'field:<JSON path>' (domain::returned_part).

-- The part a reason is about unless the reviewer picks another; null: a general reason.
alter table return_reasons add column default_part text
    check (default_part is null or default_part like 'scan:%' or default_part like 'field:%');

update return_reasons set default_part = 'scan:application_form' where code in ('form_unsigned', 'form_incomplete');
update return_reasons set default_part = 'scan:eseal_form' where code = 'eseal_form_missing';
update return_reasons set default_part = 'scan:id_front' where code = 'id_front_unclear';
update return_reasons set default_part = 'scan:id_back' where code in ('id_back_unclear', 'id_expired');
update return_reasons set default_part = 'field:applicant.name' where code = 'name_mismatch';
update return_reasons set default_part = 'scan:liveness_photo' where code = 'liveness_mismatch';
update return_reasons set default_part = 'field:mailing_address' where code = 'address_incomplete';

-- The part each reason of a return decision is about, as the reviewer chose it (a reason
-- without a row is general). The resubmission of that version must change every such part.
create table decision_parts (
    decision_id bigint not null references decisions (decision_id),
    code        text not null,
    part        text not null check (part like 'scan:%' or part like 'field:%'),
    primary key (decision_id, code)
);
