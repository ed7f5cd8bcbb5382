"""The real Placement app and database (SQLite in a temporary directory), reached
in-process through httpx; tokens are role names ("admin", "service", "member").

`run_gabbit(app, name)` plays `gabbits/<name>.yaml` against an app: declarative
HTTP exchanges in the manner of gabbi (see test_placement_gabbits.py).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.placement import api, policy
from pocketstack.placement.service import Placement
from pocketstack.placement.unit import MIGRATIONS

GABBITS = Path(__file__).parent / "gabbits"
_TOKEN = re.compile(r'\.?("([^"]*)"|\[(\d+)\]|([^.\[]+))')
_ENVIRON = re.compile(r"\$ENVIRON\['(\w+)'\]")
_RESPONSE = re.compile(r"\$RESPONSE\['([^']+)'\]")
ROLES = {
    "admin": ["admin", "member", "reader"],
    "service": ["service"],
    "member": ["member", "reader"],
    "reader": ["reader"],
}


async def validate(token: str) -> RequestContext:
    if token not in ROLES:
        raise exc.Unauthorized("The request you have made requires authentication.")
    return RequestContext(user_id=f"{token}-user", project_id=f"{token}-project",
                          roles=ROLES[token], auth_token=token)


@pytest.fixture
async def placement(tmp_path):
    svc = Placement(Database(f"sqlite+aiosqlite:///{tmp_path}/placement.db", MIGRATIONS),
                    Enforcer(policy.DEFAULTS))
    await svc.start()
    yield svc
    await svc.stop()


@pytest.fixture
async def app(placement):
    return api.build_app(placement, validate)


@pytest.fixture
async def http(app):
    """An admin client at the newest microversion."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://placement.test",
        headers={"X-Auth-Token": "admin", "OpenStack-API-Version": "placement latest"},
    ) as client:
        yield client


METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")
_TOKEN = re.compile(r'\.?("([^"]*)"|\[(\d+)\]|([^.\[]+))')
_ENVIRON = re.compile(r"\$ENVIRON\['(\w+)'\]")
_RESPONSE = re.compile(r"\$RESPONSE\['([^']+)'\]")


def walk(doc: Any, path: str) -> Any:
    assert path.startswith("$"), path
    for m in _TOKEN.finditer(path[1:]):
        quoted, index, plain = m.group(2), m.group(3), m.group(4)
        if index is not None:
            doc = doc[int(index)]
        else:
            doc = doc[quoted if quoted is not None else plain]
    return doc


class Run:
    def __init__(self) -> None:
        self.environ: dict[str, str] = {}
        self.last: Any = None

    def sub(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self.sub(k): self.sub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.sub(v) for v in value]
        if not isinstance(value, str):
            return value
        whole = _RESPONSE.fullmatch(value)
        if whole:  # keep the type (an int generation stays an int)
            return walk(self.last, whole.group(1))
        value = _ENVIRON.sub(lambda m: self.environ.setdefault(m.group(1), str(uuid.uuid4())),
                             value)
        return _RESPONSE.sub(lambda m: str(walk(self.last, m.group(1))), value)


def check_value(where: str, got: Any, want: Any) -> None:
    if isinstance(want, str) and len(want) > 1 and want.startswith("/") and want.endswith("/"):
        assert re.search(want[1:-1], str(got)), f"{where}: {got!r} does not match {want}"
    else:
        assert got == want, f"{where}: got {got!r}, want {want!r}"


async def run_step(http: httpx.AsyncClient, run: Run, defaults: dict, step: dict) -> None:
    name = step["name"]
    method = next(m for m in METHODS if m in step)
    headers = {**defaults.get("request_headers", {}), **step.get("request_headers", {})}
    headers = {k: str(v) for k, v in run.sub(headers).items() if v is not None}
    kw: dict[str, Any] = {}
    if "data" in step:
        kw["content"] = json.dumps(run.sub(step["data"]))
        headers.setdefault("content-type", "application/json")
    resp = await http.request(method, run.sub(step[method]), headers=headers, **kw)
    where = f"{name!r} ({method} {step[method]})"
    assert resp.status_code == step.get("status", 200), \
        f"{where}: status {resp.status_code}, want {step.get('status', 200)}: {resp.text}"
    for header, want in run.sub(step.get("response_headers", {})).items():
        assert header in resp.headers, f"{where}: no {header} header"
        check_value(f"{where} header {header}", resp.headers[header], want)
    body = resp.json() if resp.content and "json" in resp.headers.get("content-type", "") \
        else None
    for path, want in step.get("response_json_paths", {}).items():
        path, want = run.sub(path), run.sub(want)
        if path.startswith("len:"):
            check_value(f"{where} {path}", len(walk(body, path[4:])), want)
        else:
            check_value(f"{where} {path}", walk(body, path), want)
    if "response_forbidden_headers" in step:
        for header in step["response_forbidden_headers"]:
            assert header not in resp.headers, f"{where}: unexpected {header} header"
    run.last = body


async def play(app, name: str) -> None:  # noqa: ANN001
    spec = yaml.safe_load((GABBITS / f"{name}.yaml").read_text())
    run = Run()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://placement.test") as http:
        for step in spec["tests"]:
            await run_step(http, run, spec.get("defaults", {}), step)


@pytest.fixture
def run_gabbit():
    return play


@pytest.fixture
def test_validator():
    return validate
