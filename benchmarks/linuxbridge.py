"""The linuxbridge agent's passes: what a network costs to bring up, and what a
pass costs when nothing changed (the agent is level-triggered: every notice
and every resync lists the whole topology).

The network service's real app and SQLite database in process (httpx over
ASGI, a test token validator) and the real agent on this host (root: bridges,
namespaces, dnsmasq, iptables). It creates N networks with a /24 subnet each
and times the pass that brings them up (bridge, qdhcp namespace and veth,
DHCP port, dnsmasq); binds P ports spread over them and times the pass that
writes their firewall (one iptables-restore); then times idle passes (wall
and CPU of this process). Everything is deleted at the end.

    PYTHONPATH=. python benchmarks/linuxbridge.py --networks 10 --ports 100
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from pathlib import Path

import httpx

from pocketstack.config import NetworkConfig
from pocketstack.core.auth import AuthMiddleware
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.core.web import neutron_errors
from pocketstack.network import api, policies
from pocketstack.network.agent.linuxbridge import registry
from pocketstack.network.agent.linuxbridge.agent import LinuxBridgeAgent
from pocketstack.network.client import NetworkClient
from pocketstack.network.service import NetworkService
from pocketstack.network.unit import MIGRATIONS

ADMIN = RequestContext(user_id="bench", project_id="bench", roles=["admin", "member", "reader"])


async def validate(token: str) -> RequestContext:
    return ADMIN


async def token() -> str:
    return "t"


async def timed(what: str, agent: LinuxBridgeAgent, per: int = 1) -> tuple[float, float]:
    began, cpu = time.perf_counter(), time.process_time()
    await agent.sync()
    wall, used = time.perf_counter() - began, time.process_time() - cpu
    print(f"  {what}: {wall * 1000 / per:8.1f} ms wall, {used * 1000 / per:7.1f} ms CPU"
          + (f" (per item, {per} items)" if per > 1 else ""), flush=True)
    return wall, used


async def run(networks: int, ports: int, idle: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="lb-bench-"))
    db = Database(f"sqlite+aiosqlite:///{workdir}/network.db", MIGRATIONS)
    await db.start()
    svc = NetworkService(db, NetworkConfig(), Enforcer(policies.DEFAULTS))
    app = AuthMiddleware(api.build_app(svc), validate, neutron_errors, public=api.is_public)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b",
                                 headers={"X-Auth-Token": "t"}, timeout=600) as http:
        agent = LinuxBridgeAgent(svc, NetworkClient(http, "http://b"), token, workdir,
                                 "bench" + secrets.token_hex(4))
        svc.notifier = agent  # no start(): this script runs the passes itself
        try:
            await bench(http, agent, networks, ports, idle)
        finally:
            await agent.stop()
            record = registry.load(agent.agent_id)
            if record is not None:
                await registry.remove_all(record)
                record.forget()
    await db.close()


async def bench(http: httpx.AsyncClient, agent: LinuxBridgeAgent, networks: int, ports: int,
                idle: int) -> None:
    await http.put("/v2.0/quotas/bench", json={"quota": {"port": -1, "network": -1,
                                                          "subnet": -1}})
    nets = []
    for i in range(networks):
        net = (await http.post("/v2.0/networks", json={"network": {}})).json()["network"]
        await http.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": f"10.{i // 250}.{i % 250}.0/24"}})
        nets.append(net["id"])
    await timed(f"bring up {networks} networks", agent, networks)
    for i in range(ports):
        r = await http.post("/v2.0/ports", json={"port": {
            "network_id": nets[i % networks], "binding:host_id": "bench-host"}})
        assert r.status_code == 201, r.text
    await timed(f"bind {ports} ports (firewall, DHCP hosts)", agent)
    walls, cpus = zip(*[await timed("idle pass", agent) for _ in range(idle)], strict=True)
    print(f"  idle pass, median of {idle}: {sorted(walls)[idle // 2] * 1000:.1f} ms wall, "
          f"{sorted(cpus)[idle // 2] * 1000:.1f} ms CPU", flush=True)
    for p in (await http.get("/v2.0/ports")).json()["ports"]:
        if p["device_owner"] != "network:dhcp":
            await http.delete(f"/v2.0/ports/{p['id']}")
    for net_id in nets:
        await http.delete(f"/v2.0/networks/{net_id}")
    await timed(f"tear down {networks} networks", agent, networks)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--networks", type=int, default=10)
    p.add_argument("--ports", type=int, default=100)
    p.add_argument("--idle", type=int, default=5, help="idle passes timed")
    args = p.parse_args()
    print(f"linuxbridge agent passes ({args.networks} networks, {args.ports} ports):")
    asyncio.run(run(args.networks, args.ports, args.idle))


if __name__ == "__main__":
    main()
