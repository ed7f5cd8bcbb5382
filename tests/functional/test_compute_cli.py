"""Compute with the real openstack CLI against a live all-in-one with three
fake hosts: the launch and life of a server, boot from volume, server groups,
quotas, many servers spread over the hosts, a server that fits nowhere, and
`pocketstack trace`."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.functional.conftest import Cloud, CommandFailed


@pytest.fixture(scope="module")
def image(cloud3) -> str:
    """The image `pocketstack up` made on first start, by the name users type."""
    assert [i["Name"] for i in cloud3.openstack("image", "list")] == ["cirros"]
    return "cirros"


def raw(cloud: Cloud, *args: str) -> str:
    """The plain output of an openstack CLI command (demo cloud)."""
    cmd = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", "pocketstack",
           *args]
    return subprocess.run(cmd, env=cloud.env, capture_output=True, text=True, check=True,
                          timeout=120).stdout


def host_of(cloud: Cloud, server: str) -> str:
    return cloud.sdk("pocketstack-admin").compute.get_server(server).compute_host


def test_launch_and_life_of_a_server(cloud3, image):
    c = cloud3
    c.openstack("keypair", "create", "--private-key", str(c.state_dir / "k.pem"), "k")
    vm = c.openstack("server", "create", "--flavor", "m1.tiny", "--image", image,
                     "--network", "private", "--key-name", "k", "vm1", "--wait")
    assert vm["status"] == "ACTIVE" and vm["key_name"] == "k"
    net = c.sdk("pocketstack-admin").network
    subnet = net.find_subnet("private-subnet").cidr
    (addr,) = vm["addresses"]["private"]
    assert ipaddress.ip_address(addr) in ipaddress.ip_network(subnet)
    (port,) = net.ports(device_id=vm["id"])
    assert port.binding_host_id == host_of(c, vm["id"])
    assert [s["Name"] for s in c.openstack("server", "list")] == ["vm1"]
    c.openstack("server", "reboot", "--wait", "vm1", json_output=False)
    c.openstack("server", "stop", "vm1", json_output=False)
    c.openstack("server", "start", "vm1", json_output=False)
    console = raw(c, "console", "log", "show", "vm1")
    assert "login: vm1 is up" in console
    trace = subprocess.run([sys.executable, "-m", "pocketstack.cli.main", "trace", vm["id"],
                            "--state-dir", str(c.state_dir)], env=c.env, capture_output=True,
                           text=True, check=True).stdout
    assert "all 28 steps recorded" in trace, trace
    c.openstack("server", "delete", "--wait", "vm1")
    assert list(net.ports(device_id=vm["id"])) == []
    with c.http() as http:
        allocations = http.get(f"/placement/allocations/{vm['id']}").json()
    assert allocations["allocations"] == {}


def test_boot_from_volume_and_attach_a_volume(cloud3, image):
    c = cloud3
    volumes = c.sdk("pocketstack").block_storage
    image_id = c.sdk("pocketstack").image.find_image(image).id
    vm = c.openstack("server", "create", "--flavor", "m1.tiny", "--network", "private",
                     "--block-device", f"source_type=image,uuid={image_id},destination_type="
                     "volume,volume_size=1,boot_index=0,delete_on_termination=true", "bfv",
                     "--wait")
    assert vm["status"] == "ACTIVE"
    (root,) = vm["volumes_attached"]
    assert volumes.get_volume(root["id"]).status == "in-use"
    data = volumes.wait_for_status(volumes.create_volume(size=1, name="data"), "available")
    c.openstack("server", "add", "volume", "bfv", "data")
    assert volumes.get_volume(data.id).status == "in-use"
    c.openstack("server", "remove", "volume", "bfv", "data")
    assert volumes.get_volume(data.id).status == "available"
    c.openstack("server", "delete", "--wait", "bfv")
    assert volumes.find_volume(root["id"]) is None  # delete_on_termination


def test_anti_affinity_group_members_on_different_hosts(cloud3, image):
    c = cloud3
    group = c.openstack("server", "group", "create", "--policy", "anti-affinity", "apart")
    ids = [c.openstack("server", "create", "--flavor", "m1.nano", "--image", image,
                       "--network", "private", "--hint", f"group={group['id']}", name,
                       "--wait")["id"] for name in ("apart-1", "apart-2")]
    assert host_of(c, ids[0]) != host_of(c, ids[1])
    assert sorted(c.sdk("pocketstack").compute.get_server_group(group["id"]).member_ids) == \
        sorted(ids)
    c.openstack("server", "delete", "--wait", "apart-1", "apart-2")


def test_many_servers_spread_by_weight(cloud3, image):
    c = cloud3
    c.openstack("server", "create", "--flavor", "m1.nano", "--image", image,
                "--nic", "none", "--min", "9", "--max", "9", "many", "--wait")
    conn = c.sdk("pocketstack-admin")
    servers = [s for s in conn.compute.servers(all_projects=True) if
               s.name.startswith("many")]
    assert len(servers) == 9 and all(s.status == "ACTIVE" for s in servers)
    assert sorted(Counter(s.compute_host for s in servers).values()) == [3, 3, 3]
    for s in servers:
        conn.compute.delete_server(s)
    for s in servers:
        conn.compute.wait_for_delete(s, wait=30)


def test_a_server_that_fits_nowhere_is_error_with_the_reason(cloud3, image):
    c = cloud3
    c.openstack("flavor", "create", "--ram", "50000", "--vcpus", "1", "--disk", "1",
                "huge", cloud="pocketstack-admin")  # under the RAM quota, over every host
    with pytest.raises(CommandFailed):
        c.openstack("server", "create", "--flavor", "huge", "--image", image,
                    "--nic", "none", "toobig", "--wait")
    shown = c.sdk("pocketstack").compute.find_server("toobig")
    assert shown.status == "ERROR"
    assert "No valid host was found" in shown.fault["message"]
    assert "ram removed 3" in shown.fault["message"]
    c.openstack("server", "delete", "--wait", "toobig")


def test_quota_refuses_a_second_server(cloud3, image):
    c = cloud3
    identity = c.sdk("pocketstack-admin").identity
    project = identity.create_project(name="quota-p", domain_id="default")
    user = identity.create_user(name="quota-u", password="pw", domain_id="default",
                                default_project_id=project.id)
    identity.assign_project_role_to_user(project, user, identity.find_role("member"))
    c.openstack("quota", "set", "--instances", "1", "quota-p", cloud="pocketstack-admin")
    c.add_cloud("quota", "quota-u", "pw", "quota-p")
    c.openstack("server", "create", "--flavor", "m1.nano", "--image", image,
                "--nic", "none", "q1", "--wait", cloud="quota")
    with pytest.raises(CommandFailed) as refused:
        c.openstack("server", "create", "--flavor", "m1.nano", "--image", image,
                    "--nic", "none", "q2", cloud="quota")
    assert "Quota exceeded for instances" in refused.value.stderr
    c.openstack("server", "delete", "--wait", "q1", cloud="quota")
