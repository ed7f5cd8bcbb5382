"""`pocketstack demo`: a first launch, shown step by step, for someone new.

It starts the all-in-one on a fresh state directory (real VMs with libvirt
when this machine can run them, else the fake driver, and it says which and
why), uploads the test VM image, creates a key pair, boots a server, waits
for ACTIVE and for the guest to come up, prints the guest's console lines and
the launch trace (`pocketstack trace`), then deletes what it made and stops
the cloud, also on Ctrl-C, unless --keep. Each step prints the `openstack`
command that does the same.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pocketstack import config as configuration

DESCRIPTION = """\
Launch one server on a new pocketstack and show how it went.

On a fresh state directory (a temporary one unless --state-dir) this starts
`pocketstack up`, then, as the `openstack` CLI would:
  1. uploads the test VM image (built from Debian packages, cached),
  2. creates a key pair,
  3. boots a server with user data and waits for ACTIVE,
  4. waits for the guest to come up and prints its console lines
     (its address, the metadata it read, its disks),
  5. prints the launch trace: the numbered steps of the launch, each with
     the service that did it and how long it took (`pocketstack trace`).
Then it deletes the server, key pair and image and stops the cloud (also on
Ctrl-C), unless --keep.

Real VMs need root, qemu-system-x86 and libvirt (a libvirtd is started if
none runs); DHCP and metadata inside the guest need the linuxbridge network
agent. Without them the demo runs on the fake driver and says why.
"""

MARKER_PREFIX = "POCKETSTACK-TESTVM-"
USER_DATA = "#!/bin/sh\necho hello from pocketstack demo\n"
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)  # loaded before any fork


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = DESCRIPTION
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--driver", choices=("auto", "libvirt", "fake"), default="auto",
                   help="compute driver: libvirt (real VMs), fake, or auto: libvirt when "
                   "this machine can run it (default)")
    p.add_argument("--state-dir", type=Path,
                   help="the cloud's state directory (default: a new temporary directory, "
                   "removed at the end unless --keep)")
    p.add_argument("--port", type=int, help="port to serve on (default: a free one)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds to wait for the guest to come up (default 300)")
    p.add_argument("--keep", action="store_true",
                   help="leave the cloud and the server running at the end")


# -- what this machine can run ----------------------------------------------------------------


@dataclass
class Plan:
    driver: str
    agent: str
    notes: list[str] = field(default_factory=list)


def libvirt_missing() -> list[str]:
    """Why real VMs cannot run here (empty when they can)."""
    why = []
    if os.geteuid() != 0:
        why.append("not running as root (libvirt guests, bridges and taps need it)")
    if not shutil.which("qemu-system-x86_64"):
        why.append("qemu-system-x86 is not installed")
    if not shutil.which("libvirtd") and not Path("/run/libvirt/libvirt-sock").exists():
        why.append("libvirt-daemon is not installed")
    if importlib.util.find_spec("libvirt") is None:
        why.append("the libvirt Python binding (libvirt-python) is not installed")
    return why


def dataplane_missing() -> list[str]:
    why = []
    if importlib.util.find_spec("pocketstack.network.agent.linuxbridge") is None:
        why.append("this pocketstack has no linuxbridge network agent")
    for tool, package in (("dnsmasq", "dnsmasq-base"), ("ip", "iproute2")):
        if not shutil.which(tool):
            why.append(f"{package} is not installed")
    return why


def choose(requested: str) -> Plan:
    if requested == "fake":
        return Plan("fake", "noop", ["the fake driver, as asked: no real VM"])
    missing = libvirt_missing()
    if missing:
        if requested == "libvirt":
            raise SystemExit("error: cannot run real VMs here: " + "; ".join(missing))
        return Plan("fake", "noop", [f"the fake driver: {why}" for why in missing])
    plan = Plan("libvirt", "linuxbridge", ["real VMs: the libvirt driver (qemu)"])
    if no_dataplane := dataplane_missing():
        plan.agent = "noop"
        plan.notes += [f"no DHCP or metadata in the guest: {why}" for why in no_dataplane]
    return plan


# -- the demo ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Demo:
    def __init__(self, args: argparse.Namespace, plan: Plan):
        self.args, self.plan = args, plan
        self.temporary = args.state_dir is None
        self.state_dir = (Path(tempfile.mkdtemp(prefix="pocketstack-demo-"))
                          if self.temporary else args.state_dir.expanduser().resolve())
        self.port = args.port or free_port()
        self.clouds_yaml = self.state_dir / "clouds.yaml"
        self.proc: subprocess.Popen | None = None
        self.conn: Any = None
        self.made: dict[str, Any] = {}
        self.began = time.monotonic()

    # -- output --

    def step(self, text: str) -> None:
        print(f"\n==> {text}", flush=True)

    def say(self, text: str) -> None:
        print(f"    {text}", flush=True)

    def command(self, *words: str) -> None:
        self.say("$ openstack --os-cloud pocketstack " + " ".join(words))

    # -- the cloud --

    def start_cloud(self) -> None:
        self.step(f"Starting pocketstack on 127.0.0.1:{self.port} "
                  f"(driver {self.plan.driver}, network agent {self.plan.agent})")
        for note in self.plan.notes:
            self.say(note)
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(self.clouds_yaml),
                   POCKETSTACK_COMPUTE_DRIVER=self.plan.driver,
                   POCKETSTACK_NETWORK_AGENT=self.plan.agent)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.state_dir / "pocketstack.log"
        self.say(f"state in {self.state_dir}, log in {log}")
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pocketstack.cli.main", "up", "--port", str(self.port),
                 "--state-dir", str(self.state_dir)], env=env, stdout=out,
                stderr=subprocess.STDOUT, cwd=self.state_dir, start_new_session=True,
                preexec_fn=None if self.args.keep else _die_with_parent)
        self._wait_answering(log)
        self.say(f"up in {time.monotonic() - self.began:.1f}s (pid {self.proc.pid})")
        import openstack.config
        import openstack.connection

        config = openstack.config.OpenStackConfig(config_files=[str(self.clouds_yaml)])
        self.conn = openstack.connection.Connection(
            config=config.get_one(cloud="pocketstack"))

    def _wait_answering(self, log: Path, within: float = 180.0) -> None:
        import httpx

        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"error: pocketstack up exited {self.proc.returncode}:\n"
                                 + log.read_text()[-3000:])
            with contextlib.suppress(httpx.HTTPError):
                if self.clouds_yaml.exists() and httpx.get(
                        f"http://127.0.0.1:{self.port}/identity/v3", timeout=2).is_success:
                    return
            time.sleep(0.2)
        raise SystemExit(f"error: pocketstack up did not answer in {within:.0f}s; see {log}")

    def stop_cloud(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    # -- the launch --

    def image(self) -> Any:
        if self.plan.driver != "libvirt":
            self.step("The image: the fake driver boots nothing, so the default 'cirros' will do")
            return self.conn.image.find_image("cirros", ignore_missing=False)
        from pocketstack import testimage

        self.step("Uploading the test VM image")
        built = testimage.ensure_built(configuration.load().cache_dir)
        self.command("image create --disk-format qcow2 --container-format bare",
                     f"--file {built.qcow2} testvm")
        image = self.conn.image.create_image(
            name="testvm", filename=str(built.qcow2), disk_format="qcow2",
            container_format="bare", wait=True)
        self.made["image"] = image
        image = self.conn.image.get_image(image.id)
        self.say(f"image testvm {image.id}: {image.status}, {image.size} bytes")
        return image

    def keypair(self) -> Any:
        from pocketstack.compute.keypairs import generate

        self.step("Creating a key pair")
        private, public = generate()
        key_file = self.state_dir / "demo-key"
        key_file.write_text(private)
        key_file.chmod(0o600)
        (self.state_dir / "demo-key.pub").write_text(public + "\n")
        self.command(f"keypair create --public-key {key_file}.pub demo-key")
        key = self.conn.compute.create_keypair(name="demo-key", public_key=public)
        self.made["keypair"] = key
        self.say(f"key pair demo-key: {key.fingerprint}")
        return key

    def boot(self, image: Any) -> Any:
        self.step("Booting a server")
        flavor = self.conn.compute.find_flavor("m1.nano", ignore_missing=False)
        network = self.conn.network.find_network("private", ignore_missing=False)
        self.command("server create --flavor m1.nano", f"--image {image.name}",
                     "--network private --key-name demo-key --user-data FILE demo-vm --wait")
        began = time.monotonic()
        server = self.conn.compute.create_server(
            name="demo-vm", image_id=image.id, flavor_id=flavor.id,
            networks=[{"uuid": network.id}], key_name="demo-key",
            user_data=base64.b64encode(USER_DATA.encode()).decode())
        self.made["server"] = server
        server = self.conn.compute.wait_for_server(server, wait=self.args.timeout)
        addresses = ", ".join(a["addr"] for net in server.addresses.values() for a in net)
        self.say(f"server demo-vm {server.id}: {server.status} in "
                 f"{time.monotonic() - began:.1f}s, address {addresses}")
        return server

    def guest(self, server: Any) -> None:
        self.step("Waiting for the guest to come up (its console log)")
        self.command("console log show demo-vm")
        began = time.monotonic()
        deadline = began + self.args.timeout
        want = "POCKETSTACK-TESTVM-DISKS" if self.plan.driver == "libvirt" else "login:"
        while True:
            output = self.conn.compute.get_server_console_output(server)["output"]
            if want in output:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"error: the guest did not come up in "
                                 f"{self.args.timeout:.0f}s; its console:\n{output[-2000:]}")
            time.sleep(1)
        whole = output[:output.rfind("\n") + 1]  # the last line may be half-written
        lines = [line[line.index(MARKER_PREFIX):] for line in whole.splitlines()
                 if MARKER_PREFIX in line] or output.strip().splitlines()[-5:]
        for line in lines:
            line = line.strip()
            self.say(line if len(line) <= 160 else line[:157] + "...")
        self.say(f"up {time.monotonic() - began:.1f}s after ACTIVE")

    def trace(self, server: Any) -> None:
        import asyncio

        from pocketstack.cli.trace import render

        self.step("The launch, step by step")
        self.say(f"$ pocketstack trace --state-dir {self.state_dir} {server.id}")
        cfg = configuration.load(state_dir=self.state_dir)
        lines: list[str] = []
        for _ in range(20):  # spans reach the database within a flush interval
            with contextlib.suppress(LookupError):
                lines = asyncio.run(render(cfg, server.id))
            if lines and lines[-1] == "all 28 steps recorded":
                break
            time.sleep(0.5)
        for line in lines:
            self.say(line)

    def clean_up(self) -> None:
        if self.args.keep:
            self.keep_message()
            return
        self.step("Cleaning up")
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self._delete_made()
        self.stop_cloud()
        if self.plan.agent == "linuxbridge":
            self._remove_data_plane()
        if self.temporary:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.say(f"removed {self.state_dir}")
        self.say(f"done in {time.monotonic() - self.began:.1f}s")

    def _delete_made(self) -> None:
        # By name: a Ctrl-C during `create` may have left a server not yet recorded.
        for server in list(self.conn.compute.servers(name="^demo-vm$")):
            self.command("server delete --wait demo-vm")
            self.conn.compute.delete_server(server)
            self.conn.compute.wait_for_delete(server, wait=120)
            self.made.setdefault("server", server)
        if "keypair" in self.made:
            self.conn.compute.delete_keypair("demo-key")
        if "image" in self.made:
            self.conn.image.delete_image(self.made["image"])
        self.say("deleted: " + ", ".join(self.made))

    def _remove_data_plane(self) -> None:
        """The network agent leaves bridges and namespaces for its restart to adopt;
        this cloud will not restart: remove them as the next agent would."""
        import asyncio

        from pocketstack.network.agent.linuxbridge import registry

        with contextlib.suppress(Exception):
            asyncio.run(registry.reap_stale(own_id=""))

    def keep_message(self) -> None:
        self.step("Left running (--keep)")
        if self.proc is not None:
            self.say(f"pocketstack: pid {self.proc.pid}, state in {self.state_dir}")
            self.say(f"export OS_CLIENT_CONFIG_FILE={self.clouds_yaml}")
            self.say("openstack --os-cloud pocketstack server list")
            self.say(f"stop it with: kill {self.proc.pid}")

    def run(self) -> None:
        self.start_cloud()
        image = self.image()
        self.keypair()
        server = self.boot(image)
        self.guest(server)
        self.trace(server)


def run(args: argparse.Namespace) -> int:
    demo = Demo(args, choose(args.driver))
    try:
        demo.run()
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        return_code = 130
    except SystemExit as stop:
        print(stop.code, file=sys.stderr, flush=True)
        return_code = 1
    else:
        return_code = 0
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            demo.clean_up()
    return return_code
