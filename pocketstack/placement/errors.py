"""Placement's error codes (the `code` of each error body) and the errors that carry them."""

from __future__ import annotations

from pocketstack.core import exceptions as exc

DEFAULT = "placement.undefined_code"
INVENTORY_INUSE = "placement.inventory.inuse"
CONCURRENT_UPDATE = "placement.concurrent_update"
DUPLICATE_NAME = "placement.duplicate_name"
PROVIDER_IN_USE = "placement.resource_provider.inuse"
PROVIDER_CANNOT_DELETE_PARENT = "placement.resource_provider.cannot_delete_parent"
RESOURCE_PROVIDER_NOT_FOUND = "placement.resource_provider.not_found"
ILLEGAL_DUPLICATE_QUERYPARAM = "placement.query.duplicate_key"
QUERYPARAM_BAD_VALUE = "placement.query.bad_value"
QUERYPARAM_MISSING_VALUE = "placement.query.missing_value"


def concurrent_update(what: str = "resource provider") -> exc.Conflict:
    return exc.Conflict(
        f"{what} generation conflict: another process changed it. Please update the "
        "generation and try again.", code=CONCURRENT_UPDATE)


def provider_not_found(uuid: str) -> exc.NotFound:
    return exc.NotFound(f"No resource provider with uuid {uuid} found",
                        code=RESOURCE_PROVIDER_NOT_FOUND)
