"""The compute API's policy defaults (Nova's names; overridable by the policy file)."""

from __future__ import annotations

ADMIN = "role:admin"
MEMBER = "rule:admin_or_member"
READER = "rule:admin_or_reader"
ANY = "@"

RULES: dict[str, str] = {
    "os_compute_api:servers:create": MEMBER,
    "os_compute_api:servers:index": READER,
    "os_compute_api:servers:detail": READER,
    "os_compute_api:servers:index:get_all_tenants": ADMIN,
    "os_compute_api:servers:show": READER,
    "os_compute_api:servers:update": MEMBER,
    "os_compute_api:servers:delete": MEMBER,
    "os_compute_api:servers:create:forced_host": ADMIN,
    "os_compute_api:servers:action": MEMBER,
    "os_compute_api:servers:create_image": MEMBER,
    "os_compute_api:os-extended-server-attributes": ADMIN,
    "os_compute_api:os-console-output": MEMBER,
    "os_compute_api:server-metadata:index": READER,
    "os_compute_api:server-metadata:update": MEMBER,
    "os_compute_api:ips:index": READER,
    "os_compute_api:os-instance-actions:list": READER,
    "os_compute_api:os-instance-actions:events": ADMIN,
    "os_compute_api:os-volumes-attachments:index": READER,
    "os_compute_api:os-volumes-attachments:create": MEMBER,
    "os_compute_api:os-volumes-attachments:delete": MEMBER,
    "os_compute_api:os-attach-interfaces:list": READER,
    "os_compute_api:os-attach-interfaces:create": MEMBER,
    "os_compute_api:os-attach-interfaces:delete": MEMBER,
    "os_compute_api:os-flavor-manage:create": ADMIN,
    "os_compute_api:os-flavor-manage:update": ADMIN,
    "os_compute_api:os-flavor-manage:delete": ADMIN,
    "os_compute_api:os-flavor-extra-specs:index": ANY,
    "os_compute_api:os-flavor-extra-specs:manage": ADMIN,
    "os_compute_api:os-flavor-access": ADMIN,
    "os_compute_api:os-keypairs:create": "rule:admin_or_owner_user",
    "os_compute_api:os-keypairs:index": "rule:admin_or_owner_user",
    "os_compute_api:os-keypairs:delete": "rule:admin_or_owner_user",
    "admin_or_owner_user": "role:admin or user_id:%(user_id)s",
    "os_compute_api:os-server-groups:create": MEMBER,
    "os_compute_api:os-server-groups:index": READER,
    "os_compute_api:os-server-groups:index:all_projects": ADMIN,
    "os_compute_api:os-server-groups:show": READER,
    "os_compute_api:os-server-groups:delete": MEMBER,
    "os_compute_api:os-quota-sets:show": READER,
    "os_compute_api:os-quota-sets:update": ADMIN,
    "os_compute_api:os-quota-sets:delete": ADMIN,
    "os_compute_api:os-quota-sets:defaults": ANY,
    "os_compute_api:limits": ANY,
    "os_compute_api:os-availability-zone:list": ANY,
    "os_compute_api:os-availability-zone:detail": ADMIN,
    "os_compute_api:os-hypervisors": ADMIN,
    "os_compute_api:os-services": ADMIN,
    "os_compute_api:os-aggregates": ADMIN,
}
