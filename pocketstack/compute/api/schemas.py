"""Request bodies of the servers API: the public contract, checked as strictly
as Nova's JSON schemas (unknown fields are 400)."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Name = Field(min_length=1, max_length=255)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NetworkSpec(Strict):
    uuid: str | None = None
    port: str | None = None
    fixed_ip: str | None = None
    tag: str | None = Field(None, max_length=60)


class SecurityGroupRef(Strict):
    name: str = Name


class BlockDevice(Strict):
    boot_index: int | str | None = None
    uuid: str | None = None
    source_type: Literal["image", "volume", "snapshot", "blank"] | None = None
    destination_type: Literal["volume", "local"] | None = None
    volume_size: int | str | None = None
    delete_on_termination: bool | str = False
    device_name: str | None = Field(None, max_length=255)
    tag: str | None = Field(None, max_length=60)
    volume_type: str | None = None
    disk_bus: str | None = None
    device_type: str | None = None
    guest_format: str | None = None
    no_device: bool | None = None

    @field_validator("boot_index", "volume_size")
    @classmethod
    def _int(cls, v: Any) -> int | None:
        if v is None or v == "":
            return None
        try:
            return int(v)
        except (TypeError, ValueError):
            raise ValueError("must be an integer") from None

    @field_validator("delete_on_termination")
    @classmethod
    def _bool(cls, v: Any) -> bool:
        if isinstance(v, bool):
            return v
        if str(v).lower() in ("true", "1", "yes"):
            return True
        if str(v).lower() in ("false", "0", "no"):
            return False
        raise ValueError("must be a boolean")


class ServerCreate(Strict):
    name: str = Name
    imageRef: str = ""
    flavorRef: str | int
    networks: Literal["auto", "none"] | list[NetworkSpec] | None = None
    security_groups: list[SecurityGroupRef] | None = None
    key_name: str | None = Field(None, max_length=255)
    user_data: str | None = Field(None, max_length=65535)
    metadata: dict[str, str] = Field(default_factory=dict)
    availability_zone: str | None = Field(None, max_length=255)
    block_device_mapping_v2: list[BlockDevice] | None = None
    min_count: int | str = 1
    max_count: int | str | None = None
    return_reservation_id: bool = False
    config_drive: bool | str | None = None
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    adminPass: str | None = None
    description: str | None = Field(None, max_length=255)
    hostname: str | None = Field(None, max_length=255)
    tags: list[str] | None = None
    host: str | None = None
    hypervisor_hostname: str | None = None
    disk_config: str | None = Field(None, alias="OS-DCF:diskConfig")
    trusted_image_certificates: list[str] | None = None

    @field_validator("user_data")
    @classmethod
    def _base64(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("user_data must be base64 encoded") from None
        return v

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if not 0 < len(key) <= 255 or len(value) > 255:
                raise ValueError("metadata keys are 1-255 characters, values 0-255")
        return v

    @field_validator("min_count", "max_count")
    @classmethod
    def _count(cls, v: Any) -> int | None:
        if v is None:
            return None
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise ValueError("must be an integer") from None
        if n < 1:
            raise ValueError("must be 1 or more")
        return n

    @field_validator("config_drive")
    @classmethod
    def _config_drive(cls, v: Any) -> bool:
        return str(v).lower() in ("true", "1", "yes") if v is not None else False


class CreateRequest(Strict):
    server: ServerCreate
    scheduler_hints: dict[str, Any] = Field(default_factory=dict, alias="os:scheduler_hints")
    legacy_hints: dict[str, Any] | None = Field(None, alias="OS-SCH-HNT:scheduler_hints")


class ServerUpdate(Strict):
    name: str | None = Name
    description: str | None = Field(None, max_length=255)
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    hostname: str | None = Field(None, max_length=255)
    disk_config: str | None = Field(None, alias="OS-DCF:diskConfig")


class UpdateRequest(Strict):
    server: ServerUpdate
