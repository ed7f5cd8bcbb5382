"""Role-based policy: OpenStack's rule language, per-service rule tables.

A rule is a string in oslo.policy's language: `role:admin`,
`project_id:%(project_id)s` (a credential compared with the target),
`system_scope:all`, `rule:other_rule`, `@` (always), `!` (never), combined
with `and`, `or`, `not` and parentheses. Each service passes its table of
defaults; a policy file (YAML or JSON, `policy_file` in the config) can
override any rule by name. Roles in a context are already expanded
(admin implies member implies reader), so `role:reader` admits a member.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext

Check = Callable[[dict[str, Any], Mapping[str, Any], "Enforcer"], bool]

# Rules every service can refer to with `rule:NAME`.
BASE_RULES: dict[str, str] = {
    "admin_required": "role:admin",
    "admin": "role:admin",
    "member": "role:member",
    "reader": "role:reader",
    "service": "role:service",
    "owner": "project_id:%(project_id)s",
    "project_member": "role:member and project_id:%(project_id)s",
    "project_reader": "role:reader and project_id:%(project_id)s",
    "admin_or_owner": "role:admin or project_id:%(project_id)s",
    "admin_or_member": "role:admin or (role:member and project_id:%(project_id)s)",
    "admin_or_reader": "role:admin or (role:reader and project_id:%(project_id)s)",
}

_TOKEN = re.compile(r"\s*(\(|\)|(?:%\(\w+\)s|[^\s()])+)")


def _tokens(text: str) -> list[str]:
    return [m.group(1) for m in _TOKEN.finditer(text)]


class _Parser:
    """Recursive descent: expr := term ('or' term)*; term := factor ('and' factor)*;
    factor := 'not' factor | '(' expr ')' | check."""

    def __init__(self, text: str):
        self.toks, self.i, self.text = _tokens(text), 0, text

    def parse(self) -> Check:
        if not self.toks:
            return lambda creds, target, enf: True
        check = self._expr()
        if self.i != len(self.toks):
            raise ValueError(f"unexpected {self.toks[self.i]!r} in rule {self.text!r}")
        return check

    def _peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _take(self) -> str:
        if self.i >= len(self.toks):
            raise ValueError(f"rule {self.text!r} ends too early")
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def _expr(self) -> Check:
        parts = [self._term()]
        while self._peek() == "or":
            self._take()
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else (lambda c, t, e: any(p(c, t, e) for p in parts))

    def _term(self) -> Check:
        parts = [self._factor()]
        while self._peek() == "and":
            self._take()
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else (lambda c, t, e: all(p(c, t, e) for p in parts))

    def _factor(self) -> Check:
        tok = self._take()
        if tok == "not":
            inner = self._factor()
            return lambda c, t, e: not inner(c, t, e)
        if tok == "(":
            inner = self._expr()
            if self._take() != ")":
                raise ValueError(f"missing ')' in rule {self.text!r}")
            return inner
        return _check(tok)


def _check(tok: str) -> Check:
    if tok == "@":
        return lambda c, t, e: True
    if tok == "!":
        return lambda c, t, e: False
    kind, sep, match = tok.partition(":")
    if not sep:
        raise ValueError(f"bad check {tok!r}")
    if kind == "rule":
        return lambda c, t, e: e.check_rule(match, c, t)
    if kind == "role":
        return lambda c, t, e: match.lower() in c.get("roles", ())
    return lambda c, t, e: _generic(kind, match, c, t)


def _generic(kind: str, match: str, creds: dict[str, Any], target: Mapping[str, Any]) -> bool:
    if match.startswith("%(") and match.endswith(")s"):
        expected = target.get(match[2:-2])
    elif match in ("True", "False"):
        expected = match == "True"
    else:
        expected = match
    value = creds.get(kind)
    return value is not None and expected is not None and str(value) == str(expected)


class Enforcer:
    """One service's rules: its defaults, overridden by the policy file."""

    def __init__(self, defaults: Mapping[str, str], policy_file: Path | None = None):
        rules = dict(BASE_RULES)
        rules.update(defaults)
        if policy_file is not None and Path(policy_file).exists():
            rules.update(load_policy_file(Path(policy_file)))
        self.texts = rules
        self._compiled = {name: _Parser(text).parse() for name, text in rules.items()}

    def check_rule(self, name: str, creds: dict[str, Any], target: Mapping[str, Any]) -> bool:
        check = self._compiled.get(name)
        return check is not None and check(creds, target, self)

    def allowed(self, ctx: RequestContext, action: str,
                target: Mapping[str, Any] | None = None) -> bool:
        if action not in self._compiled:
            raise KeyError(f"no policy rule named {action!r}")
        if target is None:
            target = {"project_id": ctx.project_id, "user_id": ctx.user_id}
        return self._compiled[action](ctx.policy_creds(), target, self)

    def enforce(self, ctx: RequestContext, action: str,
                target: Mapping[str, Any] | None = None) -> None:
        if not self.allowed(ctx, action, target):
            raise exc.Forbidden(f"Policy doesn't allow {action} to be performed.")


def load_policy_file(path: Path) -> dict[str, str]:
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{path}: a policy file maps rule names to rule strings")
    return data
