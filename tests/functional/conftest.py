"""The shared harness for functional tests: live pocketstack clouds.

`cloud` is one `pocketstack up` (started once per session) on a free port
with its own state directory and clouds.yaml, shared by every functional
test; it is stopped by PID (SIGTERM) at the end and must exit cleanly.
`make_cloud` starts private clouds (extra environment, another database) for
tests that need their own; they stop when the test ends. `backend_cloud` is
a cloud per database backend (SQLite, then a real PostgreSQL started by the
tests: marker `postgres`), with `backend_env` for private clouds on it.

    def test_something(cloud):
        cloud.openstack("project", "list")              # the real CLI, parsed -f json
        cloud.openstack("role", "add", ...)             # commands without output -> None
        conn = cloud.sdk("pocketstack-admin")           # openstacksdk Connection
        with cloud.http("pocketstack-admin") as http:   # httpx, X-Auth-Token set
            http.get("/identity/v3/users")
        cloud.add_cloud("alice", "alice", "secret", "p1")  # a clouds.yaml entry
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# OpenStack CLI verbs whose commands print nothing (and take no -f).
SILENT_VERBS = {"add", "remove", "delete", "set", "unset", "revoke"}
DEFAULT_ENV = {"POCKETSTACK_IDENTITY_BCRYPT_ROUNDS": "4", "POCKETSTACK_LOG_LEVEL": "warning"}


# Loaded before any fork: a child may not be able to read the libraries (other uid).
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)

def die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the test process dies (so a killed
    pytest leaves no cloud running)."""
    _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CommandFailed(AssertionError):
    def __init__(self, args: list[str], returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        super().__init__(f"{' '.join(args)} exited {returncode}:\n{stderr}{stdout}")


class Cloud:
    """A running `pocketstack up` and the ways to talk to it."""

    def __init__(self, state_dir: Path, env: dict[str, str] | None = None,
                 port: int | None = None, command: tuple[str, ...] = ("up",),
                 identity_url: str | None = None):
        """`command`: `pocketstack` arguments before --port/--state-dir (`serve
        compute`, say); `identity_url`: identity when another process runs it."""
        self.state_dir = state_dir
        self.port = port or free_port()
        self.command = command
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.identity_url = identity_url or self.base_url + "/identity/v3"
        self.clouds_yaml = state_dir / "clouds.yaml"
        self.log = state_dir / "pocketstack.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env.update(DEFAULT_ENV)
        self.env.update(env or {})
        self.env["OS_CLIENT_CONFIG_FILE"] = str(self.clouds_yaml)
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        self.proc: subprocess.Popen | None = None
        self.backend = "sqlite"
        self.postgres: Any = None  # the PostgresCluster of a postgresql cloud
        self._tokens: dict[str, str] = {}

    # -- life cycle -------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> Cloud:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pocketstack.cli.main", *self.command,
                 "--port", str(self.port), "--state-dir", str(self.state_dir)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.state_dir,
                preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pocketstack {self.command[0]} exited "
                                   f"{self.proc.returncode}:\n" + self.log.read_text())
            if self._started() and self._answers():
                return self
            time.sleep(0.1)
        self.stop(check=False)
        raise RuntimeError(f"pocketstack {self.command[0]} did not answer in time:\n"
                           + self.log.read_text())

    def _started(self) -> bool:
        """What the process writes once its services are up."""
        if self.identity_url.startswith(self.base_url):  # it runs identity: clouds.yaml
            return self.clouds_yaml.exists()
        return "pocketstack serving" in self.log.read_text()

    def _answers(self) -> bool:
        try:
            return httpx.get(self.identity_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, check: bool = True, timeout: float = 20.0) -> int | None:
        """SIGTERM by PID; with `check`, fail unless it exits cleanly (status 0)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            if check:
                raise AssertionError(
                    f"pocketstack {self.command[0]} did not stop on SIGTERM") from None
            return None
        if check and rc != 0:
            raise AssertionError(f"pocketstack {self.command[0]} exited {rc}:\n"
                                 f"{self.log.read_text()[-3000:]}")
        return rc

    # -- clients --------------------------------------------------------------------

    def clouds(self) -> dict[str, Any]:
        return yaml.safe_load(self.clouds_yaml.read_text())["clouds"]

    def add_cloud(self, name: str, username: str, password: str, project: str | None = None,
                  domain: str = "default") -> None:
        """Add a password cloud `name` to this cloud's clouds.yaml."""
        from pocketstack.cli.clouds import write_clouds

        auth = {"auth_url": self.base_url + "/identity", "username": username,
                "password": password, "user_domain_id": domain}
        if project:
            auth.update(project_name=project, project_domain_id=domain)
        write_clouds(self.clouds_yaml, {name: {
            "auth": auth, "region_name": "RegionOne", "interface": "public",
            "identity_api_version": 3}})
        self._tokens.pop(name, None)

    def openstack(self, *args: str, cloud: str | None = "pocketstack",
                  json_output: bool | None = None, env: dict[str, str] | None = None) -> Any:
        """Run the real `openstack` CLI; parsed JSON output, or None for silent commands.
        Raises CommandFailed (with stderr) on a non-zero exit."""
        if json_output is None:
            json_output = not SILENT_VERBS.intersection(a for a in args[:4])
        cmd = [str(Path(sys.executable).with_name("openstack"))]
        if cloud is not None:
            cmd += ["--os-cloud", cloud]
        cmd += list(args) + (["-f", "json"] if json_output else [])
        run_env = dict(self.env, **(env or {}))
        done = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise CommandFailed(cmd, done.returncode, done.stdout, done.stderr)
        if json_output and done.stdout.strip():
            return json.loads(done.stdout)
        return None

    def openstack_text(self, *args: str, cloud: str = "pocketstack") -> str:
        """The CLI's plain output, for commands that print text (`console log show`)."""
        cmd = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", cloud, *args]
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise CommandFailed(cmd, done.returncode, done.stdout, done.stderr)
        return done.stdout

    def sdk(self, cloud: str = "pocketstack-admin"):  # noqa: ANN201
        """An openstacksdk Connection for a cloud of this clouds.yaml."""
        import openstack.config
        import openstack.connection

        config = openstack.config.OpenStackConfig(config_files=[str(self.clouds_yaml)])
        return openstack.connection.Connection(config=config.get_one(cloud=cloud))

    def auth_body(self, cloud: str = "pocketstack-admin") -> dict[str, Any]:
        """The POST /v3/auth/tokens body for a cloud's password credentials."""
        a = self.clouds()[cloud]["auth"]
        body: dict[str, Any] = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": a["username"], "password": a["password"],
                     "domain": {"id": a.get("user_domain_id", "default")}}}}}}
        if a.get("project_name"):
            body["auth"]["scope"] = {"project": {
                "name": a["project_name"], "domain": {"id": a.get("project_domain_id",
                                                                   "default")}}}
        return body

    def token(self, cloud: str = "pocketstack-admin", fresh: bool = False) -> str:
        """A token for a cloud of clouds.yaml (cached unless `fresh`)."""
        if fresh or cloud not in self._tokens:
            r = httpx.post(self.identity_url + "/auth/tokens", json=self.auth_body(cloud))
            assert r.status_code == 201, r.text
            self._tokens[cloud] = r.headers["X-Subject-Token"]
        return self._tokens[cloud]

    def http(self, cloud: str | None = "pocketstack-admin", token: str | None = None,
             **kw: Any) -> httpx.Client:
        """An httpx client on the base URL, with X-Auth-Token (none if cloud is None)."""
        headers = dict(kw.pop("headers", {}))
        token = token or (self.token(cloud) if cloud else None)
        if token:
            headers["X-Auth-Token"] = token
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kw)


@pytest.fixture(scope="session")
def shared_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    c = Cloud(tmp_path_factory.mktemp("cloud")).start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def cloud(shared_cloud: Cloud) -> Cloud:
    """The shared live cloud (SQLite, bcrypt cost 4), started once per session."""
    return shared_cloud


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster for the session (pocketstack.testing.postgres)."""
    from pocketstack.testing.postgres import PostgresCluster

    pg = PostgresCluster.start()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="session", params=[
    "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_cloud(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """A live cloud on each database backend: the shared SQLite one, then one on a
    real PostgreSQL. A test module runs on both by overriding `cloud`:

        @pytest.fixture
        def cloud(backend_cloud):
            return backend_cloud
    """
    if request.param == "sqlite":
        c = request.getfixturevalue("shared_cloud")
        c.backend = "sqlite"
        yield c
        return
    pg = request.getfixturevalue("postgres")
    c = Cloud(tmp_path_factory.mktemp("pg-cloud"),
              env={"POCKETSTACK_DATABASE_URL": pg.database_url("shared")})
    c.backend, c.postgres = "postgresql", pg
    c.start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def backend_env(backend_cloud: Cloud) -> dict[str, str]:
    """The environment for a private cloud on `backend_cloud`'s backend (its own
    databases on the same PostgreSQL)."""
    if backend_cloud.backend == "sqlite":
        return {}
    prefix = "p" + uuid.uuid4().hex[:10]
    return {"POCKETSTACK_DATABASE_URL": backend_cloud.postgres.database_url(prefix)}


@pytest.fixture(scope="module")
def cloud3(tmp_path_factory):
    """A cloud of this module's own with 3 fake compute hosts."""
    c = Cloud(tmp_path_factory.mktemp("compute"),
              env={"POCKETSTACK_COMPUTE_FAKE_HOSTS": "3"}).start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def make_cloud(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A factory of private clouds: make_cloud(env={...}) -> a started Cloud,
    stopped (cleanly) when the test ends."""
    started: list[Cloud] = []

    def make(env: dict[str, str] | None = None, state_dir: Path | None = None,
             **kw: Any) -> Cloud:
        """kw: Cloud's port, command, identity_url."""
        c = Cloud(state_dir or tmp_path_factory.mktemp("private-cloud"), env=env, **kw)
        started.append(c)
        return c.start()

    yield make
    for c in reversed(started):  # the later ones may depend on the earlier
        c.stop()
