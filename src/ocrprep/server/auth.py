"""Credentials: API keys with scopes, worker tokens for labelling, checked in constant time.

A credential is ``<prefix>_<id>_<secret>``: ``ocp_`` for an API key, ``ocw_`` for a labelling
worker's token. Only the id, a random salt and the scrypt hash of the secret are stored; a
presented secret is hashed with the stored salt and compared with :func:`hmac.compare_digest`.
The id is not secret (``ocrprep keys list`` shows it); the 256-bit secret is.

Scopes: ``read`` may read everything and call the stateless image endpoints (process, assess,
detect-labels); ``admin`` may also change state (projects, models, parameters, labelling jobs,
keys). A worker token only opens its own job's labelling endpoints.

Hashing with scrypt costs tens of milliseconds on purpose, so a verified credential is kept in a
small in-process cache for ``cache_seconds`` (keyed by an HMAC of the credential under a random
per-process key, never the credential itself). A revocation through this process clears the
cache at once; one made by another process (the CLI) takes effect within ``cache_seconds``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal, Protocol

from ocrprep.errors import AuthError

__all__ = [
    "SCOPES",
    "Authenticator",
    "Credential",
    "CredentialStore",
    "Principal",
    "ScopeDenied",
    "hash_secret",
    "new_credential",
    "parse_credential",
    "verify_secret",
]

Scope = Literal["read", "admin"]
#: The scopes an API key may carry; ``admin`` implies ``read``.
SCOPES: tuple[str, ...] = ("read", "admin")

KEY_PREFIX = "ocp"
WORKER_PREFIX = "ocw"
_CREDENTIAL = re.compile(r"^(ocp|ocw)_([A-Za-z0-9]{8,32})_([A-Za-z0-9_-]{20,128})$")

# scrypt cost: 2**14 x 8 x 1 = 16 MiB and about 30-60 ms per check on a laptop core.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}


class ScopeDenied(AuthError):
    """The credential is valid but its scope does not allow the call."""

    http_status = 403


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key with scopes, or a labelling worker of one job."""

    kind: Literal["key", "worker", "anonymous"]
    name: str
    scopes: frozenset[str] = frozenset()
    credential_id: str = ""
    job_id: int | None = None

    def allows(self, scope: str) -> bool:
        """True if this principal holds ``scope`` (``admin`` implies ``read``)."""
        if self.kind != "key":
            return False
        return scope in self.scopes or "admin" in self.scopes

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "name": self.name,
            "scopes": sorted(self.scopes),
            "id": self.credential_id,
            "job_id": self.job_id,
        }


@dataclass(frozen=True)
class Credential:
    """What the store holds for one credential: never the secret itself."""

    id: str
    kind: Literal["key", "worker"]
    name: str
    salt: bytes
    digest: bytes
    scopes: frozenset[str] = frozenset()
    job_id: int | None = None
    revoked: bool = False


class CredentialStore(Protocol):
    """Where credentials live (the database adapter, or a dict in tests)."""

    def find_credential(self, credential_id: str) -> Credential | None: ...


def hash_secret(secret: str, salt: bytes) -> bytes:
    """The scrypt hash of ``secret`` under ``salt`` (32 bytes).

    Examples
    --------
    >>> len(hash_secret("s3cret", b"0123456789abcdef"))
    32
    """
    return hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)  # type: ignore[arg-type]


def verify_secret(secret: str, salt: bytes, digest: bytes) -> bool:
    """True if ``secret`` hashes to ``digest`` under ``salt`` (constant-time comparison).

    Examples
    --------
    >>> salt = b"0123456789abcdef"
    >>> verify_secret("a", salt, hash_secret("a", salt)), verify_secret("b", salt, hash_secret("a", salt))
    (True, False)
    """
    return hmac.compare_digest(hash_secret(secret, salt), digest)


def new_credential(kind: Literal["key", "worker"]) -> tuple[str, str, bytes, bytes]:
    """A fresh credential: (the full token to hand out once, its id, salt, digest)."""
    prefix = KEY_PREFIX if kind == "key" else WORKER_PREFIX
    credential_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    return f"{prefix}_{credential_id}_{secret}", credential_id, salt, hash_secret(secret, salt)


def parse_credential(token: str) -> tuple[Literal["key", "worker"], str, str]:
    """Split a token into (kind, id, secret).

    Raises
    ------
    AuthError
        If the token does not have the shape of an ocrprep credential.

    Examples
    --------
    >>> parse_credential("ocp_0a1b2c3d4e5f_" + "x" * 43)[:2]
    ('key', '0a1b2c3d4e5f')
    """
    match = _CREDENTIAL.match(token.strip())
    if match is None:
        raise AuthError("the credential is not an ocrprep API key or worker token")
    prefix, credential_id, secret = match.groups()
    return ("key" if prefix == KEY_PREFIX else "worker"), credential_id, secret


class Authenticator:
    """Checks presented tokens against a :class:`CredentialStore`, with a short-lived cache."""

    def __init__(
        self, store: CredentialStore, *, cache_seconds: float = 30.0, cache_size: int = 1024
    ) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size
        self._cache: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._cache_key = secrets.token_bytes(32)
        self._gates: dict[bytes, threading.Lock] = {}

    def authenticate(self, token: str | None) -> Principal:
        """The principal a token stands for.

        Raises
        ------
        AuthError
            No token, a malformed token, an unknown or revoked id, or a wrong secret.
        """
        if not token:
            raise AuthError(
                "credentials required: send 'Authorization: Bearer <API key>' "
                "(create one with `ocrprep keys create`)"
            )
        hit = self.cached(token)
        if hit is not None:
            return hit
        fingerprint = self._fingerprint(token)
        with self._lock:  # one check per token at a time: 32 clients with a new key, one scrypt
            gate = self._gates.setdefault(fingerprint, threading.Lock())
        with gate:
            hit = self.cached(token)
            if hit is not None:
                return hit
            try:
                return self._verify(token, fingerprint)
            finally:
                with self._lock:
                    self._gates.pop(fingerprint, None)

    def _verify(self, token: str, fingerprint: bytes) -> Principal:
        now = time.monotonic()
        kind, credential_id, secret = parse_credential(token)
        stored = self.store.find_credential(credential_id)
        if stored is None or stored.kind != kind or stored.revoked:
            raise AuthError("unknown or revoked credential")
        if not verify_secret(secret, stored.salt, stored.digest):
            raise AuthError("unknown or revoked credential")
        principal = Principal(
            kind=stored.kind,
            name=stored.name,
            scopes=stored.scopes,
            credential_id=stored.id,
            job_id=stored.job_id,
        )
        with self._lock:
            self._cache[fingerprint] = (principal, now + self.cache_seconds)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return principal

    def cached(self, token: str | None) -> Principal | None:
        """The principal of a recently verified token, without hashing (None if not cached)."""
        if not token:
            return None
        fingerprint = self._fingerprint(token)
        with self._lock:
            hit = self._cache.get(fingerprint)
            if hit is None:
                return None
            if hit[1] <= time.monotonic():
                del self._cache[fingerprint]
                return None
            self._cache.move_to_end(fingerprint)
            return hit[0]

    def _fingerprint(self, token: str) -> bytes:
        return hmac.new(self._cache_key, token.encode(), hashlib.sha256).digest()

    def forget(self, credential_id: str | None = None) -> None:
        """Drop cached verifications (of one credential id, or all): call after a revocation."""
        with self._lock:
            if credential_id is None:
                self._cache.clear()
                return
            for fingerprint in [k for k, (p, _) in self._cache.items() if p.credential_id == credential_id]:
                del self._cache[fingerprint]


def require_scope(principal: Principal, scope: str) -> None:
    """Raise :class:`ScopeDenied` unless ``principal`` holds ``scope``."""
    if not principal.allows(scope):
        raise ScopeDenied(f"this call needs the {scope!r} scope; {principal.kind} "
                          f"{principal.name!r} has {sorted(principal.scopes) or 'none'}")
