"""What a guest is told about itself, as Nova's metadata service and config
drive say it: pure functions of a small instance description (`Instance`).
The metadata API serves these documents; the config drive writes the same
ones as files (`config_drive_files`)."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
from dataclasses import dataclass, field
from typing import Any

# EC2 metadata versions, and OpenStack's (dated after the release that changed them).
EC2_VERSIONS = ["1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
                "2008-02-01", "2008-09-01", "2009-04-04"]
FOLSOM, GRIZZLY, HAVANA, LIBERTY = "2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15"
NEWTON_ONE, NEWTON_TWO, OCATA = "2016-06-30", "2016-10-06", "2017-02-22"
ROCKY, VICTORIA, EPOXY = "2018-08-27", "2020-10-14", "2025-04-04"
OPENSTACK_VERSIONS = [FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY,
                      VICTORIA, EPOXY]
# Nova's config_drive_skip_versions default: the oldest EC2 versions stay off the drive.
CONFIG_DRIVE_SKIP = set(EC2_VERSIONS[:8])

META_DATA, USER_DATA, PASSWORD = "meta_data.json", "user_data", "password"
VENDOR_DATA, VENDOR_DATA2, NETWORK_DATA = "vendor_data.json", "vendor_data2.json", \
    "network_data.json"
# Link types Nova shows as they are; any other VIF type is a "phy" link.
EXPOSED_VIF_TYPES = {"bridge", "dvs", "hw_veb", "hyperv", "ovs", "tap", "vhostuser", "vif"}


@dataclass(frozen=True)
class Subnet:
    cidr: str
    gateway: str | None = None
    dns: tuple[str, ...] = ()
    routes: tuple[tuple[str, str], ...] = ()  # (destination CIDR, next hop)
    dhcp: bool = True
    ipv6_address_mode: str | None = None


@dataclass(frozen=True)
class Address:
    ip: str
    subnet: Subnet | None = None  # None: nothing known but the address (served by DHCP)

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.ip).version


@dataclass(frozen=True)
class Interface:
    port_id: str
    mac: str
    network_id: str
    addresses: tuple[Address, ...] = ()
    mtu: int | None = 1500
    vif_type: str = "bridge"

    @property
    def devname(self) -> str:
        return "tap" + self.port_id[:11]


@dataclass(frozen=True)
class KeyPair:
    name: str
    public_key: str
    type: str = "ssh"


@dataclass
class Instance:
    uuid: str
    name: str
    hostname: str
    project_id: str
    availability_zone: str = "nova"
    launch_index: int = 0
    reservation_id: str = ""
    key: KeyPair | None = None
    user_data: bytes | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    interfaces: list[Interface] = field(default_factory=list)
    floating_ips: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    flavor_name: str = ""
    image_id: str = ""
    dhcp_domain: str = "novalocal"
    password: str | None = None

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{self.dhcp_domain}" if self.dhcp_domain else self.hostname


def decode_user_data(user_data: str | None) -> bytes | None:
    """The API's base64 user_data as the guest gets it (ValueError when not base64)."""
    if user_data is None:
        return None
    return base64.b64decode(user_data, validate=True)


# -- OpenStack format --------------------------------------------------------------------

def at_least(required: str, version: str) -> bool:
    return OPENSTACK_VERSIONS.index(version) >= OPENSTACK_VERSIONS.index(required)


def openstack_version(name: str) -> str:
    """A requested version ("latest" or a date Nova serves); KeyError otherwise."""
    version = OPENSTACK_VERSIONS[-1] if name == "latest" else name
    if version not in OPENSTACK_VERSIONS:
        raise KeyError(name)
    return version


def openstack_versions(today: str) -> list[str]:
    """The /openstack listing: versions not in the future, then latest."""
    return [v for v in OPENSTACK_VERSIONS if v <= today] + ["latest"]


def openstack_listing(inst: Instance, version: str) -> list[str]:
    names = [META_DATA]
    if inst.user_data is not None:
        names.append(USER_DATA)
    for required, name in ((GRIZZLY, PASSWORD), (HAVANA, VENDOR_DATA),
                           (LIBERTY, NETWORK_DATA), (NEWTON_TWO, VENDOR_DATA2)):
        if at_least(required, version):
            names.append(name)
    return names


def meta_data(inst: Instance, version: str) -> dict[str, Any]:
    md: dict[str, Any] = {"uuid": inst.uuid}
    if inst.metadata:
        md["meta"] = dict(inst.metadata)
    if inst.key is not None:
        md["public_keys"] = {inst.key.name: inst.key.public_key}
        md["keys"] = [{"name": inst.key.name, "type": inst.key.type,
                       "data": inst.key.public_key}]
    md.update(hostname=inst.fqdn, name=inst.name, launch_index=inst.launch_index,
              availability_zone=inst.availability_zone)
    if at_least(GRIZZLY, version):
        md["random_seed"] = base64.b64encode(os.urandom(512)).decode()
    if at_least(LIBERTY, version):
        md["project_id"] = inst.project_id
    if at_least(NEWTON_ONE, version):
        md["devices"] = []  # device tags are not kept
    if at_least(VICTORIA, version):
        md["dedicated_cpus"] = []
    return md


def vendor_data() -> dict[str, Any]:
    """StaticJSON with no file configured, Nova's default provider."""
    return {}


def vendor_data2() -> dict[str, Any]:
    return {"static": vendor_data()}


def network_data(inst: Instance) -> dict[str, Any]:
    if not inst.interfaces:
        return {}
    links: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    for iface in inst.interfaces:
        firsts = [a for a in (_first(iface, 4), _first(iface, 6)) if a is not None]
        if not firsts:
            continue
        links.append(_link(iface))
        for addr in firsts:
            net = _network(iface, addr, f"network{len(networks)}")
            networks.append(net)
            services += [s for s in _dns(addr.subnet) if s not in services]
    return {"links": links, "networks": networks, "services": services}


def _first(iface: Interface, version: int) -> Address | None:
    return next((a for a in iface.addresses if a.version == version), None)


def _link(iface: Interface) -> dict[str, Any]:
    dhcp = any(a.subnet is None or a.subnet.dhcp for a in iface.addresses)
    return {"id": iface.devname, "vif_id": iface.port_id,
            "type": iface.vif_type if iface.vif_type in EXPOSED_VIF_TYPES else "phy",
            "mtu": None if dhcp else iface.mtu, "ethernet_mac_address": iface.mac}


def _network(iface: Interface, addr: Address, net_id: str) -> dict[str, Any]:
    v, subnet = addr.version, addr.subnet
    base = {"id": net_id, "link": iface.devname, "network_id": iface.network_id}
    if subnet is None or (subnet.dhcp and not subnet.ipv6_address_mode):
        return {**base, "type": f"ipv{v}_dhcp"}
    suffix = f"_{subnet.ipv6_address_mode}" if subnet.ipv6_address_mode else ""
    net = ipaddress.ip_network(subnet.cidr, strict=False)
    anywhere = "0.0.0.0" if v == 4 else "::"
    routes = [{"network": anywhere, "netmask": anywhere, "gateway": subnet.gateway}
              ] if subnet.gateway else []
    for dest, nexthop in subnet.routes:
        d = ipaddress.ip_network(dest, strict=False)
        routes.append({"network": str(d.network_address), "netmask": str(d.netmask),
                       "gateway": nexthop})
    return {**base, "type": f"ipv{v}{suffix}", "ip_address": addr.ip,
            "netmask": str(net.netmask), "routes": routes, "services": _dns(subnet)}


def _dns(subnet: Subnet | None) -> list[dict[str, str]]:
    return [{"type": "dns", "address": a} for a in subnet.dns] if subnet else []


# -- EC2 format ----------------------------------------------------------------------------

def ec2_id(prefix: str, uuid: str) -> str:
    """A stable EC2-style id (Nova numbers them in a table; this derives one)."""
    return f"{prefix}-{uuid.replace('-', '')[:8]}" if uuid else ""


def ec2_version(name: str) -> str:
    version = EC2_VERSIONS[-1] if name == "latest" else name
    if version not in EC2_VERSIONS:
        raise KeyError(name)
    return version


def ec2_tree(inst: Instance, name: str) -> dict[str, Any]:
    """The EC2 document of a version: {"meta-data": {...}, "user-data": bytes}."""
    version = ec2_version(name)

    def since(required: str) -> bool:
        return EC2_VERSIONS.index(version) >= EC2_VERSIONS.index(required)

    fixed = [a.ip for i in inst.interfaces for a in i.addresses if a.version == 4]
    md: dict[str, Any] = {
        "ami-id": ec2_id("ami", inst.image_id), "ami-launch-index": inst.launch_index,
        "ami-manifest-path": "FIXME", "instance-id": ec2_id("i", inst.uuid),
        "hostname": inst.fqdn, "local-ipv4": fixed[0] if fixed else "",
        "reservation-id": inst.reservation_id, "security-groups": list(inst.security_groups)}
    if inst.key is not None:
        md["public-keys"] = {"0": {"_name": f"0={inst.key.name}",
                                   "openssh-key": inst.key.public_key}}
    if since("2007-01-19"):
        md.update({"local-hostname": inst.fqdn, "public-hostname": inst.fqdn,
                   "public-ipv4": inst.floating_ips[0] if inst.floating_ips else ""})
    if since("2007-08-29"):
        md["instance-type"] = inst.flavor_name
    if since("2007-12-15"):
        md["block-device-mapping"] = {"ami": "vda", "root": "/dev/vda"}
    if since("2008-02-01"):
        md["placement"] = {"availability-zone": inst.availability_zone}
    if since("2008-09-01"):
        md["instance-action"] = "none"
    tree: dict[str, Any] = {"meta-data": md}
    if inst.user_data is not None:
        tree["user-data"] = inst.user_data
    return tree


def find(tree: Any, tokens: list[str]) -> Any:
    """The node at a path of the EC2 tree; KeyError when there is none."""
    for i, token in enumerate(tokens):
        if isinstance(tree, dict) and token in tree:
            tree = tree[token]
        elif isinstance(tree, list) and token.isdigit() and int(token) < len(tree):
            tree = tree[int(token)]
        else:
            raise KeyError("/".join(tokens[:i + 1]))
    return tree


def render(node: Any) -> bytes:
    """A node as the EC2 API prints it: a directory lists its keys (sub-directories
    with a trailing /), a list its lines, a value itself."""
    if isinstance(node, dict):
        lines = [v["_name"] if isinstance(v, dict) and "_name" in v else
                 k + "/" if isinstance(v, dict) else k
                 for k, v in sorted(node.items()) if k != "_name"]
        return "\n".join(lines).encode()
    if isinstance(node, list):
        return "\n".join(str(x) for x in node).encode()
    if isinstance(node, bytes):
        return node
    return str(node).encode()


# -- the config drive ----------------------------------------------------------------------

def config_drive_files(inst: Instance) -> dict[str, bytes]:
    """Path inside the drive -> content, as Nova writes it."""
    out: dict[str, bytes] = {}
    for name in [v for v in EC2_VERSIONS if v not in CONFIG_DRIVE_SKIP] + ["latest"]:
        tree = ec2_tree(inst, name)
        if "user-data" in tree:
            out[f"ec2/{name}/user-data"] = tree["user-data"]
        md = tree["meta-data"]
        if "public-keys" in md:
            md["public-keys"]["0"].pop("_name")
        out[f"ec2/{name}/meta-data.json"] = _json(md)
    for name in OPENSTACK_VERSIONS + ["latest"]:
        version = openstack_version(name)
        for doc in openstack_listing(inst, version):
            if doc != PASSWORD:
                out[f"openstack/{name}/{doc}"] = openstack_document(inst, version, doc)
    return out


def openstack_document(inst: Instance, version: str, name: str) -> bytes:
    """One file of /openstack/VERSION/ (not the password); KeyError when none."""
    if name not in openstack_listing(inst, version) or name == PASSWORD:
        raise KeyError(name)
    if name == USER_DATA:
        return inst.user_data or b""
    builders = {META_DATA: lambda: meta_data(inst, version), VENDOR_DATA: vendor_data,
                VENDOR_DATA2: vendor_data2, NETWORK_DATA: lambda: network_data(inst)}
    return _json(builders[name]())


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()
