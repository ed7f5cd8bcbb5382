"""How each resource looks on the wire: a row (and its tags) to Neutron's dict."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pocketstack.core.context import RequestContext
from pocketstack.network import models as m

PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")
BINDING_ADMIN = ("binding:profile",)


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def standard(row: Any, tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "project_id": row.project_id,
        "tenant_id": row.project_id,
        "description": row.description,
        "created_at": stamp(row.created_at),
        "updated_at": stamp(row.updated_at),
        "revision_number": row.revision_number,
        "tags": sorted(tags),
    }


def network(n: m.Network, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
    out = standard(n, tags) | {
        "name": n.name,
        "admin_state_up": n.admin_state_up,
        "shared": n.shared,
        "router:external": n.external,
        "is_default": False,
        "mtu": n.mtu,
        "port_security_enabled": n.port_security_enabled,
        "availability_zone_hints": list(n.availability_zone_hints or []),
        "availability_zones": ["nova"],
        "status": n.status,
        "subnets": [s.id for s in n.subnets],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "l2_adjacency": True,
        "provider:network_type": n.network_type,
        "provider:physical_network": n.physical_network,
        "provider:segmentation_id": n.segmentation_id,
    }
    if not ctx.is_admin:
        for key in PROVIDER:
            out.pop(key)
    return out


def subnet(s: m.Subnet, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
    return standard(s, tags) | {
        "name": s.name,
        "network_id": s.network_id,
        "ip_version": s.ip_version,
        "cidr": s.cidr,
        "gateway_ip": s.gateway_ip,
        "allocation_pools": [dict(p) for p in s.allocation_pools],
        "enable_dhcp": s.enable_dhcp,
        "dns_nameservers": list(s.dns_nameservers),
        "host_routes": [dict(r) for r in s.host_routes],
        "ipv6_ra_mode": s.ipv6_ra_mode,
        "ipv6_address_mode": s.ipv6_address_mode,
        "subnetpool_id": s.subnetpool_id,
        "segment_id": None,
        "service_types": [],
        "dns_publish_fixed_ip": False,
    }


def port(p: m.Port, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
    out = standard(p, tags) | {
        "name": p.name,
        "network_id": p.network_id,
        "mac_address": p.mac_address,
        "admin_state_up": p.admin_state_up,
        "status": p.status,
        "device_id": p.device_id,
        "device_owner": p.device_owner,
        "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                      for a in p.fixed_ips],
        "binding:host_id": p.host_id,
        "binding:vif_type": p.vif_type,
        "binding:vif_details": dict(p.vif_details or {}),
        "binding:vnic_type": p.vnic_type,
        "binding:profile": dict(p.binding_profile or {}),
        "security_groups": sorted(b.security_group_id for b in p.security_group_bindings),
        "allowed_address_pairs": [dict(a) for a in p.allowed_address_pairs],
        "port_security_enabled": p.port_security_enabled,
        "extra_dhcp_opts": [],
    }
    if not ctx.is_admin:
        for key in BINDING_ADMIN:
            out.pop(key)
    return out


def rule(r: m.SecurityGroupRule, tags: list[str], ctx: RequestContext,
         default_group: bool = False) -> dict[str, Any]:
    out = standard(r, tags) | {
        "security_group_id": r.security_group_id,
        "direction": r.direction,
        "ethertype": r.ethertype,
        "protocol": r.protocol,
        "port_range_min": r.port_range_min,
        "port_range_max": r.port_range_max,
        "remote_ip_prefix": r.remote_ip_prefix,
        "normalized_cidr": r.remote_ip_prefix,
        "remote_group_id": r.remote_group_id,
        "remote_address_group_id": None,
        "belongs_to_default_sg": default_group,
    }
    out.pop("tags")
    return out


def security_group(g: m.SecurityGroup, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
    return standard(g, tags) | {
        "name": g.name,
        "stateful": g.stateful,
        "shared": False,
        "security_group_rules": [rule(r, [], ctx, g.name == "default") for r in g.rules],
    }


def router(r: m.Router, tags: list[str], ctx: RequestContext,
           gw_ips: list[dict[str, str]] | None = None) -> dict[str, Any]:
    gateway = None
    if r.gw_network_id:
        gateway = {"network_id": r.gw_network_id, "enable_snat": r.enable_snat,
                   "external_fixed_ips": gw_ips or []}
    return standard(r, tags) | {
        "name": r.name,
        "admin_state_up": r.admin_state_up,
        "status": r.status,
        "external_gateway_info": gateway,
        "routes": [dict(x) for x in r.routes],
        "distributed": False,
        "ha": False,
        "availability_zone_hints": list(r.availability_zone_hints or []),
        "availability_zones": ["nova"],
        "flavor_id": None,
    }


def floatingip(f: m.FloatingIP, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
    return standard(f, tags) | {
        "floating_ip_address": f.floating_ip_address,
        "floating_network_id": f.floating_network_id,
        "router_id": f.router_id,
        "port_id": f.port_id,
        "fixed_ip_address": f.fixed_ip_address,
        "status": f.status,
        "port_details": None,
        "qos_policy_id": None,
        "port_forwardings": [],
    }


def subnetpool(p: m.SubnetPool, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
    return standard(p, tags) | {
        "name": p.name,
        "ip_version": p.ip_version,
        "prefixes": list(p.prefixes),
        "default_prefixlen": p.default_prefixlen,
        "min_prefixlen": p.min_prefixlen,
        "max_prefixlen": p.max_prefixlen,
        "shared": p.shared,
        "is_default": p.is_default,
        "default_quota": p.default_quota,
        "address_scope_id": p.address_scope_id,
    }
