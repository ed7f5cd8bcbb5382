"""Request bodies of the Placement API (the contract; microversioned where noted).
Responses are built in the handlers, shaped exactly as the API reference shows."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, field_validator

MAX_INT = 2147483647
Count = Annotated[StrictInt, Field(ge=1, le=MAX_INT)]
NonNegative = Annotated[StrictInt, Field(ge=0, le=MAX_INT)]
Generation = Annotated[StrictInt, Field(ge=0, le=2**63 - 1)]
ResourceClassName = Annotated[str, Field(pattern=r"^[A-Z0-9_]+$", max_length=255)]


def canonical_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValueError(f"{value!r} is not a 'uuid'") from None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResourceProviderCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    uuid: str | None = None
    parent_provider_uuid: str | None = None  # 1.14+

    @field_validator("uuid", "parent_provider_uuid")
    @classmethod
    def _uuid(cls, v: str | None) -> str | None:
        return None if v is None else canonical_uuid(v)


class ResourceProviderUpdate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    parent_provider_uuid: str | None = None  # 1.14+

    @field_validator("parent_provider_uuid")
    @classmethod
    def _uuid(cls, v: str | None) -> str | None:
        return None if v is None else canonical_uuid(v)


class InventoryFields(Strict):
    total: Count
    reserved: NonNegative = 0
    min_unit: Count = 1
    max_unit: Count = MAX_INT
    step_size: Count = 1
    allocation_ratio: Annotated[StrictFloat | StrictInt, Field(gt=0, le=3.40282e38)] = 1.0


class InventoryUpdate(InventoryFields):
    resource_provider_generation: Generation


class InventoryCreate(InventoryUpdate):
    resource_class: ResourceClassName


class InventoriesUpdate(Strict):
    inventories: dict[ResourceClassName, InventoryFields]
    resource_provider_generation: Generation


class TraitsUpdate(Strict):
    traits: list[Annotated[str, Field(min_length=1, max_length=255)]]
    resource_provider_generation: Generation


class AggregatesUpdate(Strict):  # 1.19+; before, the body is a bare list of uuids
    aggregates: list[str]
    resource_provider_generation: Generation

    @field_validator("aggregates")
    @classmethod
    def _uuids(cls, v: list[str]) -> list[str]:
        out = [canonical_uuid(u) for u in v]
        if len(set(out)) != len(out):
            raise ValueError("aggregates must be unique")
        return out


class ResourceAmounts(Strict):
    resources: dict[ResourceClassName, Count]


class AllocationsUpdate(Strict):
    """PUT /allocations/{consumer_uuid} at 1.12+ (and each value of POST /allocations)."""

    allocations: dict[str, ResourceAmounts]
    project_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    user_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    consumer_generation: Generation | None = None  # required (may be null) at 1.28+
    consumer_type: Annotated[str, Field(pattern=r"^[A-Z0-9_]+$", max_length=255)] | None = None
    mappings: dict[str, list[str]] | None = None  # 1.34+, accepted and ignored

    @field_validator("allocations")
    @classmethod
    def _uuids(cls, v: dict[str, ResourceAmounts]) -> dict[str, ResourceAmounts]:
        return {canonical_uuid(k): a for k, a in v.items()}


class LegacyProviderRef(Strict):
    uuid: str


class LegacyAllocation(Strict):
    resource_provider: LegacyProviderRef
    resources: dict[ResourceClassName, Count]


class LegacyAllocationsUpdate(Strict):
    """PUT /allocations/{consumer_uuid} before 1.12: a list of allocations."""

    allocations: Annotated[list[LegacyAllocation], Field(min_length=1)]
    project_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    user_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None


class ResourceClassCreate(Strict):
    name: Annotated[str, Field(pattern=r"^CUSTOM_[A-Z0-9_]+$", max_length=255)]


class ProviderInventories(InventoriesUpdate):
    """One provider's part of POST /reshaper."""


class Reshape(Strict):
    """POST /reshaper (1.30+): every provider's inventories and every consumer's
    allocations, replaced in one transaction."""

    inventories: dict[str, ProviderInventories]
    allocations: dict[str, AllocationsUpdate]

    @field_validator("inventories", "allocations")
    @classmethod
    def _uuids(cls, v: dict) -> dict:
        return {canonical_uuid(k): a for k, a in v.items()}
