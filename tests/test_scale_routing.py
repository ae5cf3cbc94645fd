"""core/replicas.py without a database: LSN text, consistency tokens, READ_DATABASE_URL's
forms, and the lag rule (a standby's lag from the primary's sampled positions)."""

from __future__ import annotations

import time

import pytest

from core.database import sqlalchemy_url
from core.replicas import ConsistencyTokens, ReadRouter, Standby, lsn_text, parse_lsn, standby_urls
from core.settings import Settings


@pytest.mark.parametrize("lsn", [0, 1, 0x3000148, (0x16 << 32) | 0xB374D848, (1 << 64) - 1])
def test_lsn_text_round_trips(lsn: int) -> None:
    assert parse_lsn(lsn_text(lsn)) == lsn


def test_lsn_text_is_postgresqls() -> None:
    assert lsn_text((0x16 << 32) | 0xB374D848) == "16/B374D848"
    for bad in ("", "16", "/1", "1/", "x/1", "123456789/0"):
        with pytest.raises(ValueError):
            parse_lsn(bad)


def test_a_token_is_bound_to_its_user_and_secret() -> None:
    tokens = ConsistencyTokens("s" * 32)
    token = tokens.issue("u-000001", 0x3000148)
    assert token.startswith("0/3000148.")
    assert tokens.verify("u-000001", token) == 0x3000148
    assert tokens.verify("u-000002", token) is None
    assert ConsistencyTokens("t" * 32).verify("u-000001", token) is None
    mac = token.partition(".")[2]
    for forged in ("FFFFFFFF/0." + mac, "0/3000148", "0/3000148.", "garbage", token + "x"):
        assert tokens.verify("u-000001", forged) is None


def test_read_database_url_forms() -> None:
    assert standby_urls(None) == [] and standby_urls("") == []
    assert standby_urls("postgresql://u:p@h1:5432/db") == ["postgresql://u:p@h1:5432/db"]
    assert standby_urls("postgresql://u@h1:5432/db, postgres://u@h2:5433/db?sslmode=require") == [
        "postgresql://u@h1:5432/db",
        "postgresql://u@h2:5433/db?sslmode=require",
    ]
    assert standby_urls("postgresql://u:p@h1:5432,h2:5433/db?sslmode=require") == [
        "postgresql://u:p@h1:5432/db?sslmode=require",
        "postgresql://u:p@h2:5433/db?sslmode=require",
    ]


def test_a_multi_host_database_url_in_sqlalchemys_form() -> None:
    url = "postgresql://app:pw@db1:5432,db2:5432/bg?target_session_attrs=read-write"
    assert sqlalchemy_url(url) == (
        "postgresql+asyncpg://app:pw@/bg?host=db1:5432&host=db2:5432&target_session_attrs=read-write"
    )
    assert sqlalchemy_url("postgresql://app@db1:5432/bg") == "postgresql+asyncpg://app@db1:5432/bg"


def test_lag_from_the_primarys_samples() -> None:
    settings = Settings(database_url="postgresql://x@h/db", read_database_url="postgresql://x@s/db")
    router = ReadRouter(settings, primary=None, primary_dsn="")  # type: ignore[arg-type]
    now = time.monotonic()
    router._samples.extend([(now - 3.0, 100), (now - 2.0, 200), (now - 1.0, 300), (now, 300)])
    standby = Standby("postgresql://x@s/db", replay_lsn=300)
    assert router.lag_of(standby) == 0.0  # has the newest position: an idle primary is no lag
    standby.replay_lsn = 250  # has what the primary had 2 s ago, not what it had 1 s ago
    assert 1.9 < router.lag_of(standby) < 2.5  # type: ignore[operator]
    standby.replay_lsn = 50  # older than every sample: at least the window, plus a round
    assert router.lag_of(standby) > 3.0  # type: ignore[operator]
    standby.in_recovery = False  # promoted: a primary itself
    assert router.lag_of(standby) == 0.0
    assert router.lag_of(Standby("postgresql://x@s/db")) is None  # never checked: unknown
