"""The metadata API of a live cloud, called as the proxy in a network's DHCP
namespace calls it: a server made with a key, user data and properties is
told exactly those, and nothing about anyone else's server."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from pocketstack.metadata import signature
from tests.functional.conftest import Cloud

PUBLIC_KEY = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
    serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
USER_DATA = b"#cloud-config\nhostname: md-vm\n"


@pytest.fixture(scope="module")
def booted(shared_cloud: Cloud, tmp_path_factory):
    """A demo server with a key, user data and properties, and an admin server
    on another network with the same address."""
    c = shared_cloud
    tmp = tmp_path_factory.mktemp("md")
    (tmp / "key.pub").write_text(PUBLIC_KEY)
    (tmp / "ud").write_bytes(USER_DATA)
    c.openstack("keypair", "create", "--public-key", str(tmp / "key.pub"), "mdkey")
    vm = c.openstack("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                     "--network", "private", "--key-name", "mdkey", "--user-data",
                     str(tmp / "ud"), "--property", "role=web", "--config-drive", "true",
                     "md-vm", "--wait")
    admin = c.sdk("pocketstack-admin")
    (port,) = admin.network.ports(device_id=vm["id"])
    ip, net_id = port.fixed_ips[0]["ip_address"], port.network_id
    subnet = admin.network.get_subnet(port.fixed_ips[0]["subnet_id"])
    other_net = admin.network.create_network(name="md-other")
    admin.network.create_subnet(network_id=other_net.id, cidr=subnet.cidr, ip_version=4,
                                name="md-other-subnet")
    other = admin.compute.create_server(
        name="md-other-vm", flavor_id=admin.compute.find_flavor("m1.tiny").id,
        image_id=admin.image.find_image("cirros").id,
        networks=[{"uuid": other_net.id, "fixed_ip": ip}])
    admin.compute.wait_for_server(other, wait=120)
    secret = (c.state_dir / "metadata" / "shared_secret").read_text().strip()
    yield {"vm": vm, "ip": ip, "net": net_id, "other": other, "other_net": other_net.id,
           "secret": secret, "subnet": subnet}
    admin.compute.delete_server(other)
    c.openstack("server", "delete", "--wait", vm["id"])
    admin.compute.wait_for_delete(other, wait=120)
    admin.network.delete_network(other_net)
    c.openstack("keypair", "delete", "mdkey")


def as_guest(cloud: Cloud, secret: str, net: str, ip: str) -> httpx.Client:
    """What the proxy sends: no token, the signed network and address."""
    return httpx.Client(base_url=cloud.base_url + "/metadata",
                        headers=signature.headers(secret, net, ip), timeout=30)


def test_the_guest_is_told_its_own_metadata(cloud, booted):
    vm = booted["vm"]
    with as_guest(cloud, booted["secret"], booted["net"], booted["ip"]) as g:
        md = g.get("/openstack/latest/meta_data.json").json()
        assert md["uuid"] == vm["id"] and md["name"] == "md-vm"
        assert md["public_keys"] == {"mdkey": PUBLIC_KEY}
        assert md["keys"] == [{"name": "mdkey", "type": "ssh", "data": PUBLIC_KEY}]
        assert md["meta"] == {"role": "web"} and md["hostname"] == "md-vm.novalocal"
        assert md["availability_zone"] == "nova" and md["launch_index"] == 0
        assert md["project_id"] == cloud.sdk("pocketstack").current_project_id
        assert g.get("/openstack/latest/user_data").content == USER_DATA
        nd = g.get("/openstack/latest/network_data.json").json()
        (link,) = nd["links"]
        assert link["ethernet_mac_address"] == vm_port(cloud, vm["id"]).mac_address
        (net,) = nd["networks"]
        assert net["network_id"] == booted["net"] and net["type"] == "ipv4_dhcp"
        assert g.get("/openstack/latest/vendor_data2.json").json() == {"static": {}}
        assert g.get("/latest/meta-data/local-ipv4").text == booted["ip"]
        assert g.get("/latest/meta-data/public-keys/0/openssh-key").text == PUBLIC_KEY
        assert g.get("/latest/meta-data/hostname").text == "md-vm.novalocal"
        assert g.get("/latest/meta-data/instance-type").text == "m1.tiny"
        assert g.get("/latest/user-data").content == USER_DATA


def test_static_subnet_gets_addresses_routes_and_dns(cloud, booted):
    admin = cloud.sdk("pocketstack-admin")
    net = admin.network.create_network(name="md-static")
    try:
        admin.network.create_subnet(
            network_id=net.id, cidr="192.168.77.0/24", ip_version=4, enable_dhcp=False,
            gateway_ip="192.168.77.1", dns_nameservers=["192.168.77.53"],
            host_routes=[{"destination": "10.99.0.0/16", "nexthop": "192.168.77.254"}])
        port = admin.network.create_port(network_id=net.id, device_id=booted["other"].id,
                                         device_owner="compute:nova")
        ip = port.fixed_ips[0]["ip_address"]
        with as_guest(cloud, booted["secret"], net.id, ip) as g:
            nd = g.get("/openstack/latest/network_data.json").json()
        static = next(n for n in nd["networks"] if n["network_id"] == net.id)
        assert static["type"] == "ipv4" and static["ip_address"] == ip
        assert static["netmask"] == "255.255.255.0"
        assert static["routes"] == [
            {"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.168.77.1"},
            {"network": "10.99.0.0", "netmask": "255.255.0.0", "gateway": "192.168.77.254"}]
        assert {"type": "dns", "address": "192.168.77.53"} in nd["services"]
    finally:
        for p in admin.network.ports(network_id=net.id):
            admin.network.delete_port(p)
        admin.network.delete_network(net)


def test_the_same_address_on_another_network_is_another_server(cloud, booted):
    with as_guest(cloud, booted["secret"], booted["other_net"], booted["ip"]) as g:
        md = g.get("/openstack/latest/meta_data.json").json()
        assert md["uuid"] == booted["other"].id and "public_keys" not in md
        assert "meta" not in md
        assert g.get("/openstack/latest/user_data").status_code == 404
        assert booted["vm"]["id"] not in g.get("/openstack/latest/network_data.json").text


def test_unknown_address_is_404_and_bad_signatures_403(cloud, booted):
    with as_guest(cloud, booted["secret"], booted["net"], "10.255.255.254") as g:
        assert g.get("/openstack/latest/meta_data.json").status_code == 404
    with as_guest(cloud, "not-the-secret", booted["net"], booted["ip"]) as g:
        resp = g.get("/openstack/latest/meta_data.json")
        assert resp.status_code == 403 and booted["vm"]["id"] not in resp.text
    with httpx.Client(base_url=cloud.base_url + "/metadata") as anyone:
        assert anyone.get("/").text.endswith("latest")
        assert anyone.get("/openstack/latest/meta_data.json", headers={
            "X-Forwarded-For": booted["ip"], "X-Neutron-Network-ID": booted["net"]}
        ).status_code == 403


def test_metadata_is_not_in_the_catalog(cloud):
    types = {s["Type"] for s in cloud.openstack("catalog", "list")}
    assert "metadata" not in types and "compute" in types


def vm_port(cloud: Cloud, server_id: str):  # noqa: ANN201
    (port,) = cloud.sdk("pocketstack-admin").network.ports(device_id=server_id)
    return port


async def test_through_the_proxy(cloud, booted):
    """A MetadataProxy on a loopback socket, forwarding to the live service: the
    caller is 127.0.0.1, which no port on the network has (404, not 403)."""
    import socket

    from pocketstack.metadata.proxy import MetadataProxy

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    async with httpx.AsyncClient() as upstream:
        proxy = MetadataProxy(upstream, cloud.base_url + "/metadata", booted["secret"])
        await proxy.serve(sock, booted["net"])
        try:
            async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as guest:
                assert (await guest.get("/")).text.endswith("\nlatest")
                resp = await guest.get("/openstack/latest/meta_data.json")
                assert resp.status_code == 404 and resp.text.startswith("404 Not Found")
        finally:
            await proxy.stop(booted["net"])
