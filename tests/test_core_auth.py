"""core.auth: tokens, and the verifier's memo (which must refuse exactly what PyJWT refuses)."""

from __future__ import annotations

import time

import jwt
import pytest

from core.auth import TokenVerifier, make_token, user_id_from_token
from core.errors import Unauthenticated

SECRET = "s" * 43


def test_verifier_accepts_what_user_id_from_token_accepts() -> None:
    verifier = TokenVerifier(SECRET)
    token = make_token("u-1", SECRET)
    assert verifier.user_id(token) == user_id_from_token(token, SECRET) == "u-1"
    assert verifier.user_id(token) == "u-1"  # from the memo


@pytest.mark.parametrize(
    "token",
    [
        make_token("u-1", "another secret of forty-three characters...."),
        jwt.encode({"sub": "u-1"}, SECRET, algorithm="HS256"),  # no exp
        jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),  # no sub
        jwt.encode({"sub": "u-1", "exp": int(time.time()) + 60}, None, algorithm="none"),
        make_token("u-1", SECRET) + "x",
        "not.a.token",
    ],
)
def test_verifier_refuses_bad_tokens_every_time(token: str) -> None:
    verifier = TokenVerifier(SECRET)
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="not valid"):
            verifier.user_id(token)


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier(SECRET)
    token = make_token("u-1", SECRET, ttl_s=30)
    assert verifier.user_id(token) == "u-1"
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.user_id(token)
    assert token not in verifier._verified


def test_the_memo_is_bounded() -> None:
    verifier = TokenVerifier(SECRET, maxsize=3)
    tokens = [make_token(f"u-{i}", SECRET) for i in range(5)]
    assert [verifier.user_id(t) for t in tokens] == [f"u-{i}" for i in range(5)]
    assert list(verifier._verified) == tokens[2:]
    long = jwt.encode({"sub": "u-9", "exp": int(time.time()) + 60, "pad": "x" * 4000}, SECRET, algorithm="HS256")
    assert verifier.user_id(long) == "u-9"
    assert long not in verifier._verified
