"""The scaled-out shape: `pocketstack serve` runs some services per process, and
the cloud works across processes as it does in one — the catalog points at each
process, services reach each other over real HTTP, and compute hosts (agents
alone, no database) reach the conductor over RabbitMQ."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from pocketstack.testing.rabbitmq import RabbitBroker

from .conftest import free_port

CONTROL = ("identity", "image", "placement", "volume", "network")
PREFIXES = {"identity": "/identity", "image": "/image", "placement": "/placement",
            "volume": "/volume", "network": "/networking", "compute": "/compute"}


def _locations(control: int, compute: int) -> str:
    return json.dumps({name: f"http://127.0.0.1:{compute if name == 'compute' else control}"
                       + prefix for name, prefix in PREFIXES.items()})


def _service_password(control) -> str:  # noqa: ANN001
    return json.loads((control.state_dir / "identity-passwords.json").read_text())["pocketstack"]


def test_compute_in_its_own_process(make_cloud):
    ports = free_port(), free_port()
    env = {"POCKETSTACK_SERVICE_URLS": _locations(*ports)}
    control = make_cloud(env=env, port=ports[0], command=("serve", *CONTROL))
    make_cloud(env=dict(env, POCKETSTACK_AUTH_SERVICE_PASSWORD=_service_password(control)),
               port=ports[1], command=("serve", "compute"), identity_url=control.identity_url)

    endpoints = control.openstack("endpoint", "list", "--service", "compute",
                                  cloud="pocketstack-admin")
    assert {e["URL"] for e in endpoints} == {f"http://127.0.0.1:{ports[1]}/compute/v2.1"}
    # The compute process made the flavors on its first start, through its own API.
    assert "m1.tiny" in {f["Name"] for f in control.openstack("flavor", "list")}
    server = control.openstack("server", "create", "--flavor", "m1.tiny", "--image",
                               "cirros", "--network", "private", "--wait", "vm1")
    assert server["status"] == "ACTIVE"
    port = control.openstack("port", "list", "--server", server["id"])
    assert len(port) == 1 and port[0]["Status"] == "ACTIVE"
    control.openstack("server", "delete", "--wait", "vm1")
    assert port[0]["ID"] not in {p["ID"] for p in control.openstack("port", "list")}


def test_without_identity_and_no_password_says_what_to_set(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pocketstack.cli.main", "serve", "image", "--state-dir",
         str(tmp_path), "--port", str(free_port())], capture_output=True, text=True,
        timeout=60, env={"PATH": "/usr/bin:/bin", "POCKETSTACK_LOG_LEVEL": "warning"})
    assert done.returncode != 0
    assert "POCKETSTACK_AUTH_SERVICE_PASSWORD" in done.stderr


def test_unknown_service_is_refused(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pocketstack.cli.main", "serve", "nova"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "invalid choice: 'nova'" in done.stderr


@pytest.fixture
def broker(tmp_path_factory):
    b = RabbitBroker.start(tmp_path_factory.mktemp("rabbit"))
    yield b
    b.stop()


@pytest.mark.rabbit
def test_compute_hosts_on_their_own_reach_the_conductor_over_rabbitmq(broker, make_cloud):
    # broker first: it is torn down after the clouds that use it
    ports = free_port(), free_port()
    env = {"POCKETSTACK_SERVICE_URLS": _locations(ports[0], ports[0]),
           "POCKETSTACK_TRANSPORT_URL": broker.url}
    control = make_cloud(env=env, port=ports[0], command=(
        "serve", *CONTROL, "compute", "--compute-roles", "api,scheduler,conductor"))
    hosts = make_cloud(env=dict(env, POCKETSTACK_AUTH_SERVICE_PASSWORD=_service_password(
        control)), port=ports[1], command=("serve", "compute", "--compute-roles", "agent",
                                           "--fake-hosts", "2"),
        identity_url=control.identity_url)
    assert httpx.get(hosts.base_url + "/compute/v2.1").status_code == 404  # no API there

    services = control.openstack("compute", "service", "list", "--service", "nova-compute",
                                 cloud="pocketstack-admin")
    assert {(s["Host"], s["State"]) for s in services} == {("fake-1", "up"), ("fake-2", "up")}
    server = control.openstack("server", "create", "--flavor", "m1.tiny", "--image",
                               "cirros", "--network", "private", "--wait", "vm1")
    assert server["status"] == "ACTIVE"
    shown = control.openstack("server", "show", server["id"], cloud="pocketstack-admin")
    assert shown["OS-EXT-SRV-ATTR:host"] in ("fake-1", "fake-2")
    # The agent's steps reached the compute database through the conductor.
    trace = subprocess.run(
        [sys.executable, "-m", "pocketstack.cli.main", "trace", server["id"], "--state-dir",
         str(control.state_dir)], capture_output=True, text=True, timeout=60,
        env=control.env, check=True).stdout
    assert "28" in trace and "compute-agent" in trace, trace
    control.openstack("server", "delete", "--wait", "vm1")
