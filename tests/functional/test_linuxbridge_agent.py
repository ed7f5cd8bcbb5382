"""The linuxbridge agent against a live cloud (POCKETSTACK_NETWORK_AGENT=linuxbridge),
as root, with a fake guest (a namespace on a veth with the port's MAC in place
of a VM's tap): DHCP hands it its address, the port goes ACTIVE, security
groups filter it, a router gives it SNAT and a floating IP, a restarted agent
rebuilds what it runs, and deleting everything leaves nothing behind."""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from pocketstack.network.agent.linuxbridge import firewall, ip, registry
from pocketstack.network.agent.linuxbridge.agent import agent_id_for
from pocketstack.testing.fakeguest import FakeGuest

NET = "/networking/v2.0"


def wait_for(check: Callable[[], Any], seconds: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"not reached in {seconds}s: {what or check}")


def ok(resp: httpx.Response) -> Any:
    assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else None


def host_ping(address: str, netns: str | None = None) -> bool:
    argv = (["ip", "netns", "exec", netns] if netns else []) + \
        ["busybox", "ping", "-c1", "-W1", address]
    return subprocess.run(argv, capture_output=True).returncode == 0


def dnsmasq_pids(network_id: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "pids", ip.dhcp_namespace(network_id)],
                         capture_output=True, text=True).stdout
    return out.split()


def iptables_rules() -> str:
    return subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True).stdout


@pytest.fixture
def lb_env() -> dict[str, str]:
    public = f"100.{random.randint(64, 127)}.{random.randint(0, 255)}.0/24"
    return {"POCKETSTACK_NETWORK_AGENT": "linuxbridge",
            "POCKETSTACK_NETWORK_RESYNC_INTERVAL": "60",
            "POCKETSTACK_NETWORK_PUBLIC_CIDR": public}


def test_linuxbridge_agent_wires_a_guest(make_cloud, lb_env, tmp_path: Path):
    state = tmp_path / "cloud"
    agent_id = agent_id_for(__import__("socket").gethostname(), state)
    guest: FakeGuest | None = None
    peer: FakeGuest | None = None
    clouds = []
    try:
        clouds.append(make_cloud(env=lb_env, state_dir=state))
        cloud = clouds[-1]
        with cloud.http() as api:
            net = ok(api.post(f"{NET}/networks", json={"network": {"name": "lb"}}))["network"]
            subnet = ok(api.post(f"{NET}/subnets", json={"subnet": {
                "network_id": net["id"], "cidr": "192.168.77.0/24", "ip_version": 4,
                "dns_nameservers": ["192.0.2.53"]}}))["subnet"]
            port = ok(api.post(f"{NET}/ports", json={"port": {"network_id": net["id"]}}))["port"]
            server = boot(api, port["id"])  # the fake driver: compute binds the port, no tap
            port = wait_for(lambda: bound(api, port["id"]), what="the port bound")
            assert port["binding:vif_type"] == "bridge"
            bridge = ip.bridge_name(net["id"])
            assert port["binding:vif_details"]["bridge_name"] == bridge
            fixed = port["fixed_ips"][0]["ip_address"]
            guest = FakeGuest.create(port["id"], port["mac_address"])

            # The tap is plugged into the bridge and the port goes ACTIVE.
            wait_for(lambda: ok(api.get(f"{NET}/ports/{port['id']}"))["port"]["status"]
                     == "ACTIVE", what="port ACTIVE")
            assert ip.master_of(guest.tap) == bridge
            dhcp_port = wait_for(lambda: ok(api.get(f"{NET}/ports", params={
                "network_id": net["id"], "device_owner": "network:dhcp"}))["ports"],
                what="the DHCP port")[0]
            dhcp_ip = dhcp_port["fixed_ips"][0]["ip_address"]

            # DHCP gives the allocated address, the router, DNS and option 121.
            lease = wait_for(guest.dhcp, what="a DHCP lease")
            assert lease["ip"] == fixed
            assert lease["router"] == subnet["gateway_ip"]
            assert lease["dns"].split() == ["192.0.2.53"]
            assert f"169.254.169.254/32 {dhcp_ip}" in lease["staticroutes"]
            guest.configure(lease)

            # The metadata proxy answers in the DHCP namespace, for this server.
            meta = guest.http_get("http://169.254.169.254/openstack/latest/meta_data.json")
            assert json.loads(meta)["uuid"] == server["id"]

            # Security groups: the default group lets in only its members...
            dhcp_ns = ip.dhcp_namespace(net["id"])
            assert not host_ping(fixed, dhcp_ns)
            other = ok(api.post(f"{NET}/ports", json={"port": {
                "network_id": net["id"], "binding:host_id": "fake-1"}}))["port"]
            peer = FakeGuest.create(other["id"], other["mac_address"])
            peer.configure(wait_for(peer.dhcp, what="the peer's lease"))
            assert peer.ping(fixed)  # a member of the same group
            group = port["security_groups"][0]
            rule = ok(api.post(f"{NET}/security-group-rules", json={"security_group_rule": {
                "security_group_id": group, "direction": "ingress", "protocol": "icmp",
                "remote_ip_prefix": "0.0.0.0/0"}}))["security_group_rule"]
            wait_for(lambda: host_ping(fixed, dhcp_ns), what="ICMP allowed in")
            # ... and a spoofed source address does not get out.
            guest.run("ip", "addr", "add", "192.168.77.250/24", "dev", "eth0")
            spoofed = guest.run("busybox", "ping", "-c1", "-W1", "-I", "192.168.77.250",
                                dhcp_ip, check=False)
            assert spoofed.returncode != 0
            guest.run("ip", "addr", "del", "192.168.77.250/24", "dev", "eth0")

            # A router: SNAT to the external network, then a floating IP (DNAT).
            public = ok(api.get(f"{NET}/networks", params={"name": "public"}))["networks"][0]
            pub_subnet = ok(api.get(f"{NET}/subnets", params={
                "network_id": public["id"]}))["subnets"][0]
            host_gw = pub_subnet["gateway_ip"]
            router = ok(api.post(f"{NET}/routers", json={"router": {
                "name": "lb-router",
                "external_gateway_info": {"network_id": public["id"]}}}))["router"]
            ok(api.put(f"{NET}/routers/{router['id']}/add_router_interface",
                       json={"subnet_id": subnet["id"]}))
            wait_for(lambda: guest.ping(host_gw), what="the guest reaching the host (SNAT)")
            fip = ok(api.post(f"{NET}/floatingips", json={"floatingip": {
                "floating_network_id": public["id"], "port_id": port["id"]}}))["floatingip"]
            wait_for(lambda: host_ping(fip["floating_ip_address"]), what="the floating IP")

        # A restart: dnsmasq stops with the agent, and comes back with it.
        cloud.stop()
        assert dnsmasq_pids(net["id"]) == []
        clouds.append(make_cloud(env=lb_env, state_dir=state))
        cloud = clouds[-1]
        wait_for(lambda: dnsmasq_pids(net["id"]), what="dnsmasq after the restart")
        assert wait_for(guest.dhcp, what="a lease after the restart")["ip"] == fixed
        assert host_ping(fip["floating_ip_address"])

        with cloud.http() as api:
            # Removing the rule closes the door again.
            ok(api.delete(f"{NET}/security-group-rules/{rule['id']}"))
            wait_for(lambda: not host_ping(fixed, dhcp_ns), what="ICMP refused again")
            ok(api.delete(f"/compute/v2.1/servers/{server['id']}"))
            wait_for(lambda: api.get(f"/compute/v2.1/servers/{server['id']}").status_code == 404,
                     what="the server deleted")
            delete_everything(api)
        wait_for(lambda: registry.load(agent_id) == registry.Record(agent_id, cloud.proc.pid),
                 what="the agent's record emptied")
        assert not ip.link_exists(ip.bridge_name(net["id"]))
        assert not ip.netns_exists(dhcp_ns)
        assert not ip.netns_exists(ip.router_namespace(router["id"]))
        assert not any(c in iptables_rules() for c in firewall.port_chains(port["id"]))
        cloud.stop()
        assert dnsmasq_pids(net["id"]) == []
    finally:
        for c in clouds:
            c.stop(check=False)
        for g in (guest, peer):
            if g is not None:
                g.delete()
        import asyncio

        asyncio.run(registry.reap_stale(""))
    assert registry.load(agent_id) is None
    assert firewall.agent_chain(agent_id) not in iptables_rules()


def boot(api: httpx.Client, port_id: str) -> dict[str, Any]:
    image = ok(api.get("/image/v2/images", params={"name": "cirros"}))["images"][0]
    flavor = next(f for f in ok(api.get("/compute/v2.1/flavors"))["flavors"]
                  if f["name"] == "m1.nano")
    return ok(api.post("/compute/v2.1/servers", json={"server": {
        "name": "lb-guest", "imageRef": image["id"], "flavorRef": flavor["id"],
        "networks": [{"port": port_id}]}}))["server"]


def bound(api: httpx.Client, port_id: str) -> dict[str, Any] | None:
    port = ok(api.get(f"{NET}/ports/{port_id}"))["port"]
    return port if port["binding:host_id"] else None


def delete_everything(api: httpx.Client) -> None:
    """Every floating IP, router, port and network of the cloud."""
    for f in ok(api.get(f"{NET}/floatingips"))["floatingips"]:
        ok(api.delete(f"{NET}/floatingips/{f['id']}"))
    for r in ok(api.get(f"{NET}/routers"))["routers"]:
        legs = ok(api.get(f"{NET}/ports", params={
            "device_id": r["id"], "device_owner": "network:router_interface"}))["ports"]
        for p in legs:
            ok(api.put(f"{NET}/routers/{r['id']}/remove_router_interface",
                       json={"port_id": p["id"]}))
        ok(api.delete(f"{NET}/routers/{r['id']}"))
    for p in ok(api.get(f"{NET}/ports"))["ports"]:
        if p["device_owner"] != "network:dhcp":
            ok(api.delete(f"{NET}/ports/{p['id']}"))
    for n in ok(api.get(f"{NET}/networks"))["networks"]:
        ok(api.delete(f"{NET}/networks/{n['id']}"))
