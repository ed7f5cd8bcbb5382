"""The network service through the real `openstack` CLI and openstacksdk
against a live pocketstack: the commands of issue 5, the first-start
networks, and project isolation."""

from __future__ import annotations

import uuid

import pytest
from openstack import exceptions as sdk_exc


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_first_start_networks(cloud):
    admin = cloud.sdk("pocketstack-admin")
    demo = cloud.sdk("pocketstack")
    public = admin.network.find_network("public", ignore_missing=False)
    assert public.is_router_external and public.provider_network_type == "flat"
    [pub_subnet] = list(admin.network.subnets(network_id=public.id))
    assert pub_subnet.cidr == "172.24.4.0/24"
    private = demo.network.find_network("private", ignore_missing=False)
    assert private.project_id == demo.current_project_id
    subnet = demo.network.find_subnet("private-subnet", ignore_missing=False)
    assert subnet.cidr == "10.0.0.0/26" and subnet.gateway_ip == "10.0.0.1"
    router = demo.network.find_router("router1", ignore_missing=False)
    assert router.external_gateway_info["network_id"] == public.id
    ifaces = list(demo.network.ports(device_id=router.id,
                                     device_owner="network:router_interface"))
    assert [p.fixed_ips[0]["ip_address"] for p in ifaces] == ["10.0.0.1"]


def test_network_subnet_port_cli(cloud):
    os_ = cloud.openstack
    net = os_("network", "create", unique("net"))
    assert net["status"] == "ACTIVE" and net["router:external"] is False
    v4 = os_("subnet", "create", "--network", net["id"], "--subnet-range", "10.0.0.0/24",
             unique("v4"))
    assert v4["gateway_ip"] == "10.0.0.1"
    assert v4["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    v6 = os_("subnet", "create", "--network", net["id"], "--ip-version", "6",
             "--ipv6-address-mode", "slaac", "--ipv6-ra-mode", "slaac",
             "--subnet-range", "fd00:10::/64", unique("v6"))
    assert v6["ipv6_address_mode"] == "slaac" and v6["ipv6_ra_mode"] == "slaac"
    device = str(uuid.uuid4())
    port = os_("port", "create", "--network", net["id"], "--device", device,
               "--fixed-ip", f"subnet={v4['name']},ip-address=10.0.0.50", unique("port"))
    ips = {f["subnet_id"]: f["ip_address"] for f in port["fixed_ips"]}
    assert ips[v4["id"]] == "10.0.0.50"
    assert ips[v6["id"]].startswith("fd00:10::") and "ff:fe" in ips[v6["id"]]
    assert port["status"] == "DOWN"
    listed = os_("port", "list", "--device-id", device)
    assert [p["ID"] for p in listed] == [port["id"]]
    with pytest.raises(AssertionError) as err:
        os_("port", "create", "--network", net["id"],
            "--fixed-ip", f"subnet={v4['name']},ip-address=10.0.0.50", unique("port"))
    assert "already allocated" in err.value.stderr


def test_subnet_pool_prefix_cli(cloud):
    os_ = cloud.openstack
    pool = os_("subnet", "pool", "create", "--pool-prefix", "10.50.0.0/16",
               "--default-prefix-length", "24", unique("pool"))
    net = os_("network", "create", unique("pnet"))
    sub = os_("subnet", "create", "--network", net["id"], "--subnet-pool", pool["id"],
              "--prefix-length", "26", unique("psub"))
    assert sub["cidr"] == "10.50.0.0/26" and sub["subnetpool_id"] == pool["id"]


def test_security_groups_cli(cloud):
    os_ = cloud.openstack
    name = unique("sg")
    group = os_("security", "group", "create", name)
    assert {r["direction"] for r in group["rules"]} == {"egress"}
    rule = os_("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
               "--remote-ip", "10.0.0.0/8", name)
    assert (rule["port_range_min"], rule["port_range_max"]) == (22, 22)
    assert rule["remote_ip_prefix"] == "10.0.0.0/8"
    with pytest.raises(AssertionError) as err:
        os_("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
            "--remote-ip", "10.0.0.0/8", name)
    assert "already exists" in err.value.stderr
    rules = os_("security", "group", "rule", "list", name)
    assert rule["id"] in {r["ID"] for r in rules} and len(rules) == 3
    groups = {g["Name"] for g in os_("security", "group", "list")}
    assert {"default", name} <= groups


def test_router_and_floating_ip_cli(cloud):
    os_ = cloud.openstack
    net = os_("network", "create", unique("rnet"))
    sub = os_("subnet", "create", "--network", net["id"], "--subnet-range", "10.20.0.0/24",
              unique("rsub"))
    router = os_("router", "create", unique("router"))
    os_("router", "set", "--external-gateway", "public", router["id"])
    os_("router", "add", "subnet", router["id"], sub["id"])
    shown = os_("router", "show", router["id"])
    gw = shown["external_gateway_info"]
    assert gw["enable_snat"] is True
    assert gw["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    port = os_("port", "create", "--network", net["id"], unique("vmport"))
    fip = os_("floating", "ip", "create", "public")
    assert fip["floating_ip_address"].startswith("172.24.4.") and fip["port_id"] is None
    os_("floating", "ip", "set", "--port", port["id"], fip["floating_ip_address"])
    fip = os_("floating", "ip", "show", fip["id"])
    assert fip["port_id"] == port["id"] and fip["router_id"] == router["id"]
    assert fip["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert fip["status"] == "ACTIVE"


def test_quota_show(cloud):
    rows = cloud.openstack("quota", "show")  # a table of Resource / Limit
    quota = {r["Resource"]: r["Limit"] for r in rows}
    assert quota["networks"] == 100 and quota["ports"] == 500
    assert quota["security_group_rules"] == 100 and quota["floating_ips"] == 50
    assert quota["security_groups"] == 10 and quota["subnet_pools"] == -1
    assert quota["routers"] == 10 and quota["subnets"] == 100


def test_projects_are_isolated(cloud):
    admin = cloud.sdk("pocketstack-admin")
    project = admin.identity.create_project(name=unique("proj"), domain_id="default")
    user = admin.identity.create_user(name=unique("user"), password="pw-secret",
                                      domain_id="default")
    member = admin.identity.find_role("member", ignore_missing=False)
    admin.identity.assign_project_role_to_user(project, user, member)
    cloud.add_cloud("net-other", user.name, "pw-secret", project.name)
    other = cloud.sdk("net-other")
    demo = cloud.sdk("pocketstack")
    private = demo.network.find_network("private", ignore_missing=False)
    names = {n.name for n in other.network.networks()}
    assert "public" in names and "private" not in names
    with pytest.raises(sdk_exc.NotFoundException):
        other.network.get_network(private.id)
    assert list(other.network.ports(network_id=private.id)) == []
    with pytest.raises(sdk_exc.NotFoundException):
        other.network.create_port(network_id=private.id)
    with pytest.raises(sdk_exc.NotFoundException):
        other.network.delete_network(private.id, ignore_missing=False)
