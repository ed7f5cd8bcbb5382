"""Placement's policy: every API but the root version document is for the
admin and for services (which call it with their service token)."""

from __future__ import annotations

ACTIONS = (
    "placement:resource_providers:list", "placement:resource_providers:create",
    "placement:resource_providers:show", "placement:resource_providers:update",
    "placement:resource_providers:delete",
    "placement:resource_classes:list", "placement:resource_classes:create",
    "placement:resource_classes:show", "placement:resource_classes:update",
    "placement:resource_classes:delete",
    "placement:resource_providers:inventories:list",
    "placement:resource_providers:inventories:create",
    "placement:resource_providers:inventories:show",
    "placement:resource_providers:inventories:update",
    "placement:resource_providers:inventories:delete",
    "placement:resource_providers:aggregates:list",
    "placement:resource_providers:aggregates:update",
    "placement:resource_providers:usages", "placement:usages",
    "placement:traits:list", "placement:traits:show", "placement:traits:update",
    "placement:traits:delete",
    "placement:resource_providers:traits:list", "placement:resource_providers:traits:update",
    "placement:resource_providers:traits:delete",
    "placement:allocations:list", "placement:allocations:manage",
    "placement:allocations:update", "placement:allocations:delete",
    "placement:resource_providers:allocations:list",
    "placement:allocation_candidates:list", "placement:reshaper:reshape",
)

DEFAULTS: dict[str, str] = {"placement_api": "role:admin or role:service"}
DEFAULTS.update({action: "rule:placement_api" for action in ACTIONS})
