"""Fernet key rotation, token payloads and the validation cache."""

from __future__ import annotations

import time

from pocketstack.identity.keys import KeyRepository
from pocketstack.identity.tokens import (
    Payload,
    TokenCodec,
    TokenInfo,
    ValidationCache,
    isotime,
)


def payload(**kw) -> Payload:
    now = time.time()
    base = dict(user_id="u1", methods=("password",), scope=("project", "p1"), issued_at=now,
                expires_at=now + 60, audit_ids=("a1",))
    base.update(kw)
    return Payload(**base)


def test_rotation_keeps_old_tokens_until_their_key_is_dropped(tmp_path):
    repo = KeyRepository(tmp_path / "keys", max_active=3)
    repo.ensure()
    assert sorted(p.name for p in repo.directory.iterdir()) == ["0", "1"]
    codec = TokenCodec(repo)
    old = codec.encode(payload())
    assert repo.rotate() == 2
    fresh = TokenCodec(repo)
    assert fresh.decode(old) == payload(issued_at=fresh.decode(old).issued_at,
                                        expires_at=fresh.decode(old).expires_at)
    assert repo.rotate() == 3  # key 1 (which made `old`) is dropped now
    assert sorted(p.name for p in repo.directory.iterdir()) == ["0", "2", "3"]
    assert TokenCodec(repo).decode(old) is None


def test_staged_key_decrypts_before_it_is_primary(tmp_path):
    a = KeyRepository(tmp_path / "a")
    a.ensure()
    staged = (a.directory / "0").read_bytes()
    b = KeyRepository(tmp_path / "b")
    b.ensure()
    (b.directory / "1").write_bytes(staged)  # another node already rotated
    token = TokenCodec(b).encode(payload())
    assert TokenCodec(a).decode(token) is not None


def test_payload_round_trip_and_garbage(tmp_path):
    repo = KeyRepository(tmp_path / "keys")
    repo.ensure()
    codec = TokenCodec(repo)
    p = payload(scope=None, app_cred_id="c1", audit_ids=("a1", "a0"))
    got = codec.decode(codec.encode(p))
    assert got.user_id == "u1" and got.scope is None and got.app_cred_id == "c1"
    assert got.audit_ids == ("a1", "a0") and abs(got.issued_at - p.issued_at) < 1e-5
    assert "=" not in codec.encode(p)
    for junk in ("", "x", "gAAAAA" + "A" * 100, "é" * 50, "a" * 5000):
        assert codec.decode(junk) is None


def test_cache_drops_entries_on_clear_and_ignores_stale_generations():
    cache = ValidationCache(ttl=60)
    info = TokenInfo(token="t", payload=payload(), user={"id": "u1"})
    generation = cache.generation
    cache.clear()  # a revocation while "t" was being validated
    cache.put(info, generation)
    assert cache.get("t") is None
    cache.put(info, cache.generation)
    assert cache.get("t") is info
    cache.clear()
    assert cache.get("t") is None
    expired = TokenInfo(token="e", payload=payload(expires_at=time.time() - 1), user={})
    cache.put(expired, cache.generation)
    assert cache.get("e") is None


def test_isotime_is_keystones_format():
    assert isotime(0) == "1970-01-01T00:00:00.000000Z"
