"""The API extensions this service implements, as `GET /v2.0/extensions` lists
them: clients (openstackclient, openstacksdk) decide what to call from these."""

from __future__ import annotations

_UPDATED = "2025-01-01T00:00:00-00:00"

_ALIASES = {
    "agent": None,
    "allowed-address-pairs": "Allowed Address Pairs",
    "binding": "Port Binding",
    "default-subnetpools": "Default Subnetpools",
    "external-net": "Neutron external network",
    "ext-gw-mode": "Neutron L3 Configurable external gateway mode",
    "extraroute": "Neutron Extra Route",
    "fields": None,
    "net-mtu": "Network MTU",
    "net-mtu-writable": "Network MTU (writable)",
    "network_availability_zone": "Network Availability Zone",
    "pagination": "Pagination support",
    "port-security": "Port Security",
    "project-id": "project_id field enabled",
    "provider": "Provider Network",
    "quotas": "Quota management support",
    "quota_details": "Quota details management support",
    "quota-check-limit": "Quota engine limit check",
    "router": "Neutron L3 Router",
    "security-group": "security-group",
    "security-groups-default-rules": None,
    "sorting": "Sorting support",
    "standard-attr-description": "standard-attr-description",
    "standard-attr-revisions": "Resource revision numbers",
    "standard-attr-tag": "Tag support for resources with standard attribute: subnet, "
                         "trunk, network_segment_range, router, network, policy, "
                         "subnetpool, port, security_group, floatingip",
    "standard-attr-timestamp": "Resource timestamps",
    "stateful-security-group": "Stateful security group",
    "subnet_allocation": "Subnet Allocation",
}

EXTENSIONS = [
    {"alias": alias, "name": name, "description": name, "updated": _UPDATED, "links": []}
    for alias, name in sorted(_ALIASES.items()) if name is not None
]
