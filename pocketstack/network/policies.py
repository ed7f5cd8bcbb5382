"""The network service's policy defaults (Neutron's rule names; a policy file
can override any). Targets carry the resource's `project_id`; reads are
filtered in SQL to what the caller may see, so rules here guard writes and
admin-only attributes."""

from __future__ import annotations

ADMIN = "rule:admin_only"
MEMBER = "rule:admin_or_member"

_RESOURCES = ("network", "subnet", "port", "router", "floatingip", "security_group",
              "security_group_rule", "subnetpool")

DEFAULTS: dict[str, str] = {
    "admin_only": "role:admin",
    "read": "role:admin or role:reader",
}
for _r in _RESOURCES:
    DEFAULTS[f"create_{_r}"] = MEMBER
    DEFAULTS[f"update_{_r}"] = MEMBER
    DEFAULTS[f"delete_{_r}"] = MEMBER

DEFAULTS |= {
    "create_network:shared": ADMIN,
    "update_network:shared": ADMIN,
    "create_network:router:external": ADMIN,
    "update_network:router:external": ADMIN,
    "create_network:provider": ADMIN,
    "update_network:provider": ADMIN,
    "create_subnetpool:shared": ADMIN,
    "create_subnetpool:is_default": ADMIN,
    # Network owner (or admin) chooses addresses and MACs on its network.
    "create_port:fixed_ips:ip_address": "rule:admin_only or project_id:%(network_owner)s",
    "create_port:mac_address": "rule:admin_only or project_id:%(network_owner)s",
    "update_port:fixed_ips:ip_address": "rule:admin_only or project_id:%(network_owner)s",
    "create_port:device_owner": "rule:admin_or_member",
    # The compute agent binds ports with the user's token (see ARCHITECTURE.md).
    "update_port:binding": MEMBER,
    "create_port:binding": MEMBER,
    "create_port:binding:profile": ADMIN,
    "update_port:binding:profile": ADMIN,
    "create_router:external_gateway_info:external_fixed_ips": ADMIN,
    "update_router:external_gateway_info:external_fixed_ips": ADMIN,
    "create_router:external_gateway_info:enable_snat": ADMIN,
    "update_router:external_gateway_info:enable_snat": ADMIN,
    "create_floatingip:floating_ip_address": ADMIN,
    "get_quota": "rule:admin_only or project_id:%(project_id)s",
    "update_quota": ADMIN,
    "delete_quota": ADMIN,
}
