\timing on
drop table if exists voters_hash, voters_list cascade;
-- HASH(district_id), 16 parts
create table voters_hash (like voters including defaults including constraints) partition by hash (district_id);
select format('create table voters_hash_%s partition of voters_hash for values with (modulus 16, remainder %s)', i, i) from generate_series(0, 15) i \gexec
insert into voters_hash select * from voters;
alter table voters_hash add primary key (id, district_id);
alter table voters_hash add unique (epic_number, district_id);
create index on voters_hash (booth_id, household) where household is not null;
create index on voters_hash (booth_id, lower(name) text_pattern_ops);
create index on voters_hash (booth_id, name_hi text_pattern_ops);
create index on voters_hash (booth_id, page, serial_number);
create index on voters_hash (booth_id, serial_number, id);
create index on voters_hash (district_id, booth_id, serial_number, id);
create index on voters_hash (mandal_id, booth_id, serial_number, id);
create index on voters_hash (region_id);
-- LIST(region_id), one part per region
create table voters_list (like voters including defaults including constraints) partition by list (region_id);
select format('create table voters_list_%s partition of voters_list for values in (%s)', r, r) from (select distinct region_id r from voters) x \gexec
insert into voters_list select * from voters;
alter table voters_list add primary key (id, region_id);
alter table voters_list add unique (epic_number, region_id);
create index on voters_list (booth_id, household) where household is not null;
create index on voters_list (booth_id, lower(name) text_pattern_ops);
create index on voters_list (booth_id, name_hi text_pattern_ops);
create index on voters_list (booth_id, page, serial_number);
create index on voters_list (booth_id, serial_number, id);
create index on voters_list (district_id, booth_id, serial_number, id);
create index on voters_list (mandal_id, booth_id, serial_number, id);
create index on voters_list (region_id);
analyze voters_hash; analyze voters_list; analyze voters;
