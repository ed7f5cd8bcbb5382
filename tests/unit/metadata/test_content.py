"""The documents a guest is given, built from an instance description."""

from __future__ import annotations

import base64
import json

import pytest

from pocketstack.metadata import content as c

STATIC = c.Subnet("192.168.5.0/24", gateway="192.168.5.1", dns=("8.8.8.8", "1.1.1.1"),
                  routes=(("10.20.0.0/16", "192.168.5.254"),), dhcp=False)
DHCP = c.Subnet("10.0.0.0/26", gateway="10.0.0.1", dns=("8.8.8.8",), dhcp=True)


def instance(**kw) -> c.Instance:
    values = dict(
        uuid="0b6c4f4e-1111-2222-3333-444455556666", name="web 1", hostname="web-1",
        project_id="p1", availability_zone="az1", launch_index=0, reservation_id="r-abc",
        key=c.KeyPair("mykey", "ssh-ed25519 AAAA me"), user_data=b"#!/bin/sh\necho hi\n",
        metadata={"role": "web"}, flavor_name="m1.tiny", image_id="abcdef01-2222",
        security_groups=["default"], floating_ips=["172.24.4.9"],
        interfaces=[
            c.Interface("port-aaaaaaaaaaaaa", "fa:16:3e:00:00:01", "net-static",
                        (c.Address("192.168.5.10", STATIC),), mtu=1450),
            c.Interface("port-bbbbbbbbbbbbb", "fa:16:3e:00:00:02", "net-dhcp",
                        (c.Address("10.0.0.7", DHCP),), vif_type="other")])
    values.update(kw)
    return c.Instance(**values)


def test_meta_data_latest_has_keys_by_name_and_everything_nova_puts():
    md = c.meta_data(instance(), c.openstack_version("latest"))
    assert md["uuid"] == "0b6c4f4e-1111-2222-3333-444455556666"
    assert md["public_keys"] == {"mykey": "ssh-ed25519 AAAA me"}
    assert md["keys"] == [{"name": "mykey", "type": "ssh", "data": "ssh-ed25519 AAAA me"}]
    assert md["meta"] == {"role": "web"} and md["name"] == "web 1"
    assert md["hostname"] == "web-1.novalocal" and md["availability_zone"] == "az1"
    assert md["project_id"] == "p1" and md["launch_index"] == 0
    assert md["devices"] == [] and md["dedicated_cpus"] == []
    assert len(base64.b64decode(md["random_seed"])) == 512


def test_older_versions_carry_less_and_no_key_means_no_keys():
    md = c.meta_data(instance(key=None, metadata={}), c.FOLSOM)
    assert set(md) == {"uuid", "hostname", "name", "launch_index", "availability_zone"}
    md = c.meta_data(instance(dhcp_domain=""), c.LIBERTY)
    assert md["project_id"] == "p1" and "devices" not in md and md["hostname"] == "web-1"


def test_listing_follows_the_version_and_user_data():
    assert c.openstack_listing(instance(), c.FOLSOM) == ["meta_data.json", "user_data"]
    assert c.openstack_listing(instance(user_data=None), "2018-08-27") == [
        "meta_data.json", "password", "vendor_data.json", "network_data.json",
        "vendor_data2.json"]
    assert c.openstack_versions("2016-01-01") == [
        c.FOLSOM, c.GRIZZLY, c.HAVANA, c.LIBERTY, "latest"]
    with pytest.raises(KeyError):
        c.openstack_version("2011-01-01")


def test_network_data_has_static_addresses_routes_and_dns():
    nd = c.network_data(instance())
    assert nd["links"] == [
        {"id": "tapport-aaaaaa", "vif_id": "port-aaaaaaaaaaaaa", "type": "bridge", "mtu": 1450,
         "ethernet_mac_address": "fa:16:3e:00:00:01"},
        {"id": "tapport-bbbbbb", "vif_id": "port-bbbbbbbbbbbbb", "type": "phy", "mtu": None,
         "ethernet_mac_address": "fa:16:3e:00:00:02"}]
    static, dhcp = nd["networks"]
    assert static == {
        "id": "network0", "link": "tapport-aaaaaa", "network_id": "net-static", "type": "ipv4",
        "ip_address": "192.168.5.10", "netmask": "255.255.255.0",
        "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.168.5.1"},
                   {"network": "10.20.0.0", "netmask": "255.255.0.0",
                    "gateway": "192.168.5.254"}],
        "services": [{"type": "dns", "address": "8.8.8.8"}, {"type": "dns", "address": "1.1.1.1"}]}
    assert dhcp == {"id": "network1", "link": "tapport-bbbbbb", "network_id": "net-dhcp",
                    "type": "ipv4_dhcp"}
    assert nd["services"] == [{"type": "dns", "address": "8.8.8.8"},
                              {"type": "dns", "address": "1.1.1.1"}]
    assert c.network_data(instance(interfaces=[])) == {}


def test_ipv6_slaac_network():
    v6 = c.Subnet("2001:db8::/64", gateway="2001:db8::1", ipv6_address_mode="slaac")
    iface = c.Interface("p6", "fa:16:3e:00:00:06", "n6", (c.Address("2001:db8::5", v6),))
    (net,) = c.network_data(instance(interfaces=[iface]))["networks"]
    assert net["type"] == "ipv6_slaac" and net["netmask"] == "ffff:ffff:ffff:ffff::"
    assert net["routes"] == [{"network": "::", "netmask": "::", "gateway": "2001:db8::1"}]


def test_ec2_tree_and_its_rendering():
    tree = c.ec2_tree(instance(), "latest")
    md = tree["meta-data"]
    assert md["instance-id"] == "i-0b6c4f4e" and md["ami-id"] == "ami-abcdef01"
    assert md["local-ipv4"] == "192.168.5.10" and md["public-ipv4"] == "172.24.4.9"
    assert md["hostname"] == "web-1.novalocal" and md["instance-type"] == "m1.tiny"
    assert md["placement"] == {"availability-zone": "az1"}
    assert c.render(c.find(tree, ["meta-data", "public-keys"])) == b"0=mykey"
    assert c.render(c.find(tree, ["meta-data", "public-keys", "0"])) == b"openssh-key"
    assert c.render(c.find(tree, ["meta-data", "public-keys", "0", "openssh-key"])) == (
        b"ssh-ed25519 AAAA me")
    assert c.render(c.find(tree, ["meta-data", "security-groups"])) == b"default"
    listing = c.render(md).decode().split("\n")
    assert "placement/" in listing and "public-keys/" in listing and "ami-id" in listing
    assert c.render(tree) == b"meta-data/\nuser-data"
    with pytest.raises(KeyError):
        c.find(tree, ["meta-data", "nope"])
    with pytest.raises(KeyError):
        c.ec2_tree(instance(), "2020-01-01")
    assert "public-ipv4" not in c.ec2_tree(instance(), "1.0")["meta-data"]


def test_config_drive_files_match_the_api_documents():
    inst = instance()
    files = c.config_drive_files(inst)
    assert files["openstack/latest/user_data"] == b"#!/bin/sh\necho hi\n"
    assert files["ec2/latest/user-data"] == b"#!/bin/sh\necho hi\n"
    md = json.loads(files["openstack/latest/meta_data.json"])
    assert md["public_keys"] == {"mykey": "ssh-ed25519 AAAA me"}
    assert json.loads(files["openstack/latest/network_data.json"]) == c.network_data(inst)
    assert json.loads(files["openstack/latest/vendor_data2.json"]) == {"static": {}}
    assert "openstack/2012-08-10/meta_data.json" in files
    assert "openstack/2012-08-10/vendor_data.json" not in files
    assert not any("password" in p for p in files)
    ec2 = json.loads(files["ec2/2009-04-04/meta-data.json"])
    assert ec2["public-keys"] == {"0": {"openssh-key": "ssh-ed25519 AAAA me"}}
    assert not any(p.startswith("ec2/1.0/") for p in files)


def test_user_data_is_decoded_from_base64():
    assert c.decode_user_data(base64.b64encode(b"\x00bin").decode()) == b"\x00bin"
    assert c.decode_user_data(None) is None
    with pytest.raises(ValueError):
        c.decode_user_data("not base64!!")
