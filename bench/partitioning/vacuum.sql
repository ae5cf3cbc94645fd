\timing on
set session_replication_role = replica;
update voters set house_number = house_number where id % 100 = 0;
update voters_hash set house_number = house_number where id % 100 = 0;
update voters_list set house_number = house_number where id % 100 = 0;
reset session_replication_role;
checkpoint;
vacuum voters;
vacuum voters_hash;
vacuum voters_list;
update voters_list set house_number = house_number where id % 100 = 0;
select min(region_id) as r from voters \gset

vacuum voters_list_:r;
