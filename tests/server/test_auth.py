"""Credentials: scrypt hashes, constant-time checks, the verification cache and revocation."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ocrprep.errors import AuthError
from ocrprep.server.auth import (
    Authenticator,
    Credential,
    Principal,
    ScopeDenied,
    hash_secret,
    new_credential,
    parse_credential,
    require_scope,
    verify_secret,
)


class CountingStore:
    """An in-memory credential store that counts look-ups."""

    def __init__(self) -> None:
        self.items: dict[str, Credential] = {}
        self.lookups = 0
        self.lock = threading.Lock()

    def add(self, kind: str = "key", scopes: frozenset[str] = frozenset({"read"})) -> str:
        token, cid, salt, digest = new_credential(kind)  # type: ignore[arg-type]
        self.items[cid] = Credential(cid, kind, f"name-{cid}", salt, digest, scopes,  # type: ignore[arg-type]
                                     job_id=7 if kind == "worker" else None)
        return token

    def find_credential(self, credential_id: str) -> Credential | None:
        with self.lock:
            self.lookups += 1
        return self.items.get(credential_id)


def test_hashes_are_salted_and_checked() -> None:
    assert hash_secret("s", b"a" * 16) != hash_secret("s", b"b" * 16)
    assert verify_secret("s", b"a" * 16, hash_secret("s", b"a" * 16))
    assert not verify_secret("t", b"a" * 16, hash_secret("s", b"a" * 16))


def test_tokens_parse_by_kind() -> None:
    token = new_credential("worker")[0]
    assert token.startswith("ocw_") and parse_credential(token)[0] == "worker"
    for bad in ("", "Bearer x", "ocp_short_x", "ocx_0123456789ab_" + "y" * 43):
        with pytest.raises(AuthError):
            parse_credential(bad)


def test_wrong_secret_unknown_id_and_revocation() -> None:
    store = CountingStore()
    token = store.add()
    auth = Authenticator(store, cache_seconds=60)
    assert auth.authenticate(token).scopes == {"read"}
    kind, cid, secret = parse_credential(token)
    with pytest.raises(AuthError):
        auth.authenticate(f"ocp_{cid}_{'x' * len(secret)}")
    with pytest.raises(AuthError):
        auth.authenticate(f"ocp_ffffffffffff_{secret}")
    with pytest.raises(AuthError):
        auth.authenticate(None)
    old = store.items[cid]
    store.items[cid] = Credential(old.id, old.kind, old.name, old.salt, old.digest, old.scopes, revoked=True)
    assert auth.authenticate(token).name == old.name  # still cached
    auth.forget(cid)
    with pytest.raises(AuthError):
        auth.authenticate(token)


def test_concurrent_first_use_checks_the_hash_once() -> None:
    store = CountingStore()
    token = store.add()
    auth = Authenticator(store)
    with ThreadPoolExecutor(8) as pool:
        principals = list(pool.map(lambda _: auth.authenticate(token), range(16)))
    assert len({p.credential_id for p in principals}) == 1
    assert store.lookups == 1


def test_scopes_admin_implies_read_and_workers_have_none() -> None:
    admin = Principal("key", "a", frozenset({"admin"}))
    reader = Principal("key", "r", frozenset({"read"}))
    worker = Principal("worker", "w", job_id=1)
    require_scope(admin, "read")
    require_scope(reader, "read")
    with pytest.raises(ScopeDenied):
        require_scope(reader, "admin")
    with pytest.raises(ScopeDenied):
        require_scope(worker, "read")
    assert ScopeDenied.http_status == 403
