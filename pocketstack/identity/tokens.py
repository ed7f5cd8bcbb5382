"""Issuing and validating tokens: the one place for keys, payloads and expiry.

A token is a Fernet token (Keystone's format: padding stripped) whose payload
names the user, the methods, the scope, the issue and expiry times, the audit
ids and an application credential. It holds no roles and no catalog: those
are looked up when it is validated, so a removed role or a disabled project
takes effect at once. `TokenInfo` is a validated token, with its Keystone body
rendered once and kept (the validation cache holds TokenInfos).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import InvalidToken

from pocketstack.core.context import RequestContext
from pocketstack.identity.keys import KeyRepository

PAYLOAD_VERSION = 1


def isotime(ts: float, subsecond: bool = True) -> str:
    """Keystone's timestamps: 2015-11-05T22:00:11.000000Z."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if subsecond else "%Y-%m-%dT%H:%M:%SZ")


def new_audit_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


@dataclass(frozen=True)
class Payload:
    user_id: str
    methods: tuple[str, ...]
    scope: tuple[str, str] | None  # ("project"|"domain"|"system", id or "all")
    issued_at: float
    expires_at: float
    audit_ids: tuple[str, ...]
    app_cred_id: str | None = None

    def dump(self) -> bytes:
        scope = list(self.scope) if self.scope else None
        return json.dumps([PAYLOAD_VERSION, self.user_id, list(self.methods), scope,
                           int(self.issued_at * 1e6), int(self.expires_at),
                           list(self.audit_ids), self.app_cred_id],
                          separators=(",", ":")).encode()

    @classmethod
    def load(cls, raw: bytes) -> Payload:
        v, user, methods, scope, issued_us, expires, audits, app_cred = json.loads(raw)
        if v != PAYLOAD_VERSION:
            raise ValueError("unknown payload version")
        return cls(user, tuple(methods), tuple(scope) if scope else None, issued_us / 1e6,
                   float(expires), tuple(audits), app_cred)


class TokenCodec:
    """Encrypts and decrypts payloads with the key repository's keys, reloading
    them (at most once a second) when the repository changes."""

    def __init__(self, keys: KeyRepository):
        self.keys = keys
        self._version: float | None = None
        self._fernet = None
        self._checked = 0.0
        self.on_reload: list[Any] = []

    def _current(self):  # noqa: ANN202
        now = time.monotonic()
        if self._fernet is None or now - self._checked > 1.0:
            self._checked = now
            version = self.keys.version()
            if version != self._version:
                self._fernet, self._version = self.keys.fernet(), version
                for callback in self.on_reload:
                    callback()
        return self._fernet

    def encode(self, payload: Payload) -> str:
        return self._current().encrypt(payload.dump()).decode().rstrip("=")

    def decode(self, token: str) -> Payload | None:
        """The payload, or None for anything that is not a token of ours."""
        if not token or len(token) > 1024:
            return None
        padded = token + "=" * (-len(token) % 4)
        try:
            return Payload.load(self._current().decrypt(padded.encode()))
        except (InvalidToken, ValueError, TypeError):
            return None


@dataclass
class TokenInfo:
    """A validated token: what its body says, and the RequestContext it gives."""

    token: str
    payload: Payload
    user: dict[str, Any]  # id, name, domain {id, name}, password_expires_at
    project: dict[str, Any] | None = None  # id, name, domain {id, name}
    domain: dict[str, Any] | None = None  # id, name
    system: bool = False
    roles: list[dict[str, str]] = field(default_factory=list)  # id, name
    app_cred: dict[str, Any] | None = None  # id, name, restricted
    catalog: list[dict[str, Any]] | None = None
    _bodies: dict[bool, bytes] = field(default_factory=dict)
    _context: RequestContext | None = None

    @property
    def user_id(self) -> str:
        return self.user["id"]

    @property
    def role_names(self) -> list[str]:
        return [r["name"] for r in self.roles]

    def body_dict(self, with_catalog: bool = True) -> dict[str, Any]:
        p = self.payload
        t: dict[str, Any] = {
            "methods": list(p.methods),
            "user": self.user,
            "audit_ids": list(p.audit_ids),
            "expires_at": isotime(p.expires_at),
            "issued_at": isotime(p.issued_at),
        }
        if self.project is not None:
            t["project"] = self.project
            t["is_domain"] = False
        elif self.domain is not None:
            t["domain"] = self.domain
        elif self.system:
            t["system"] = {"all": True}
        if p.scope is not None:
            t["roles"] = self.roles
            if with_catalog:
                t["catalog"] = self.catalog or []
        if self.app_cred is not None:
            t["application_credential"] = self.app_cred
        return {"token": t}

    def body(self, with_catalog: bool = True) -> bytes:
        cached = self._bodies.get(with_catalog)
        if cached is None:
            cached = json.dumps(self.body_dict(with_catalog), separators=(",", ":")).encode()
            self._bodies[with_catalog] = cached
        return cached

    def context(self) -> RequestContext:
        if self._context is None:
            project = self.project or {}
            self._context = RequestContext(
                user_id=self.user["id"], user_name=self.user["name"],
                user_domain_id=self.user["domain"]["id"],
                project_id=project.get("id"), project_name=project.get("name"),
                project_domain_id=(project.get("domain") or {}).get("id"),
                domain_id=(self.domain or {}).get("id"),
                system_scope="all" if self.system else None,
                roles=[r["name"].lower() for r in self.roles],
                auth_token=self.token,
                service_catalog=self.catalog or [],
            )
        return self._context


class ValidationCache:
    """Validated tokens by token string, each until the earlier of its expiry and
    `ttl`. `clear()` on every revocation-relevant write; a validation that
    started before a clear is not stored (`generation`)."""

    def __init__(self, ttl: float, size: int = 20000):
        self.ttl, self.size = ttl, size
        self._entries: dict[str, tuple[float, TokenInfo]] = {}
        self.generation = 0

    def get(self, token: str) -> TokenInfo | None:
        hit = self._entries.get(token)
        if hit is None:
            return None
        if hit[0] < time.time():
            self._entries.pop(token, None)
            return None
        return hit[1]

    def put(self, info: TokenInfo, generation: int) -> None:
        if self.ttl <= 0 or generation != self.generation:
            return
        if len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[info.token] = (min(time.time() + self.ttl, info.payload.expires_at), info)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
