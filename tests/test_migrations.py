import asyncpg

import models


async def test_models_match_migrated_tables(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        "select table_name, column_name from information_schema.columns where table_schema = 'public'"
    )
    in_db: dict[str, set[str]] = {}
    for row in rows:
        in_db.setdefault(row["table_name"], set()).add(row["column_name"])
    for table in models.metadata.sorted_tables:
        assert table.name in in_db, table.name
        assert {c.name for c in table.columns} == in_db[table.name], table.name


async def test_audit_log_is_append_only(conn: asyncpg.Connection) -> None:
    await conn.execute("insert into audit_log (user_id, action) values ('u-1', 'data.import')")
    for sql in ("update audit_log set records = 5", "delete from audit_log", "truncate audit_log"):
        try:
            await conn.execute(sql)
        except asyncpg.PostgresError as exc:
            assert "append-only" in str(exc)
        else:
            raise AssertionError(f"{sql} was allowed")
    assert await conn.fetchval("select count(*) from audit_log") == 1
