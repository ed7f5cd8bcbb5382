"""The public contract of the block storage API (Cinder v3): request bodies
as pydantic models, and the views that render rows as Cinder does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from pocketstack.volume.models import Attachment, Message, Snapshot, Volume, VolumeType

Name = Annotated[str, Field(max_length=255)]
Metadata = dict[Annotated[str, Field(min_length=1, max_length=255)],
                Annotated[str, Field(max_length=255)]]


def _int_like(v: Any) -> Any:
    """Cinder takes sizes as integers or strings of digits ("1")."""
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
        raise ValueError("must be an integer")
    return v


def _bool_like(v: Any) -> Any:
    if isinstance(v, str) and v.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return v.lower() in ("true", "1", "yes", "on")
    return v


Size = Annotated[int, BeforeValidator(_int_like), Field(gt=0, le=1 << 20)]
BoolLike = Annotated[StrictBool, BeforeValidator(_bool_like)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- requests -----------------------------------------------------------------

class VolumeCreate(Body):
    size: Size | None = None
    metadata: Annotated[Metadata, BeforeValidator(lambda v: {} if v is None else v)] = Field(
        default_factory=dict)
    name: Name | None = None
    description: Annotated[str, Field(max_length=65535)] | None = None
    volume_type: Name | None = None
    availability_zone: Name | None = None
    imageRef: str | None = None  # noqa: N815 - the wire name
    image_id: str | None = None
    snapshot_id: str | None = None
    source_volid: str | None = None
    multiattach: BoolLike = False
    display_name: Name | None = None
    display_description: str | None = None


class VolumeUpdate(Body):
    name: Name | None = None
    description: Annotated[str, Field(max_length=65535)] | None = None
    metadata: Metadata | None = None
    display_name: Name | None = None
    display_description: str | None = None


class MetadataBody(Body):
    metadata: Metadata


class MetaItem(Body):
    meta: Metadata


class Extend(Body):
    new_size: Size


class SetBootable(Body):
    bootable: BoolLike


class UploadImage(Body):
    image_name: Name
    force: BoolLike = False
    disk_format: Literal["raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx"] = "raw"
    container_format: Literal["bare"] = "bare"
    visibility: Literal["public", "private", "shared", "community"] = "private"
    protected: BoolLike = False


class ResetStatus(Body):
    status: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    attach_status: Literal["attached", "detached"] | None = None
    migration_status: str | None = None


class Revert(Body):
    snapshot_id: str


class SnapshotCreate(Body):
    volume_id: str
    name: Name | None = None
    description: Annotated[str, Field(max_length=65535)] | None = None
    force: BoolLike = False
    metadata: Annotated[Metadata, BeforeValidator(lambda v: {} if v is None else v)] = Field(
        default_factory=dict)
    display_name: Name | None = None
    display_description: str | None = None


class SnapshotUpdate(Body):
    name: Name | None = None
    description: Annotated[str, Field(max_length=65535)] | None = None
    display_name: Name | None = None
    display_description: str | None = None


class TypeCreate(Body):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: Annotated[str, Field(min_length=1, max_length=255)]
    description: Annotated[str, Field(max_length=255)] | None = None
    is_public: BoolLike = Field(True, alias="os-volume-type-access:is_public")
    extra_specs: Metadata = Field(default_factory=dict)


class TypeUpdate(Body):
    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    description: Annotated[str, Field(max_length=255)] | None = None
    is_public: BoolLike | None = None


class ExtraSpecs(Body):
    extra_specs: Metadata


class AttachmentCreate(Body):
    volume_uuid: str
    instance_uuid: str | None = None
    connector: dict[str, Any] | None = None
    mode: Literal["rw", "ro"] = "rw"


class AttachmentUpdate(Body):
    connector: dict[str, Any]


# -- views --------------------------------------------------------------------

def iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") if t else None


def links(base: str, project_id: str, collection: str, obj_id: str) -> list[dict[str, str]]:
    root = base.rstrip("/")
    return [{"href": f"{root}/v3/{project_id}/{collection}/{obj_id}", "rel": "self"},
            {"href": f"{root}/{project_id}/{collection}/{obj_id}", "rel": "bookmark"}]


def volume_summary(v: Volume, base: str) -> dict[str, Any]:
    return {"id": v.id, "name": v.name, "links": links(base, v.project_id, "volumes", v.id)}


def volume_detail(v: Volume, base: str, *, type_name: str | None,
                  attachments: list[Attachment], admin: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": v.id,
        "name": v.name,
        "description": v.description,
        "status": v.status,
        "size": v.size,
        "availability_zone": v.availability_zone,
        "created_at": iso(v.created_at),
        "updated_at": iso(v.updated_at),
        "attachments": [attachment_in_volume(a) for a in attachments
                        if a.attach_status == "attached"],
        "bootable": "true" if v.bootable else "false",
        "encrypted": False,
        "multiattach": v.multiattach,
        "metadata": dict(v.meta or {}),
        "links": links(base, v.project_id, "volumes", v.id),
        "user_id": v.user_id,
        "volume_type": type_name,
        "snapshot_id": v.snapshot_id,
        "source_volid": v.source_volid,
        "replication_status": None,
        "consistencygroup_id": None,
        "group_id": None,
        "migration_status": None,
        "os-vol-tenant-attr:tenant_id": v.project_id,
    }
    if v.image_metadata:
        body["volume_image_metadata"] = dict(v.image_metadata)
    if admin:
        body["os-vol-host-attr:host"] = v.host
        body["os-vol-mig-status-attr:migstat"] = None
        body["os-vol-mig-status-attr:name_id"] = None
        body["provider_id"] = None
    return body


def attachment_in_volume(a: Attachment) -> dict[str, Any]:
    return {"id": a.volume_id, "attachment_id": a.id, "volume_id": a.volume_id,
            "server_id": a.instance_uuid, "host_name": a.attached_host,
            "device": a.mountpoint, "attached_at": iso(a.attach_time)}


def attachment_summary(a: Attachment) -> dict[str, Any]:
    return {"id": a.id, "status": a.attach_status, "instance": a.instance_uuid,
            "volume_id": a.volume_id}


def attachment_detail(a: Attachment) -> dict[str, Any]:
    return attachment_summary(a) | {
        "attached_at": iso(a.attach_time),
        "detached_at": iso(a.detach_time),
        "attach_mode": a.attach_mode,
        "connection_info": a.connection_info,
    }


def snapshot_detail(s: Snapshot, base: str, version: tuple[int, int]) -> dict[str, Any]:
    body = {
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "volume_id": s.volume_id,
        "status": s.status,
        "size": s.size,
        "metadata": dict(s.meta or {}),
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
        "os-extended-snapshot-attributes:progress": s.progress,
        "os-extended-snapshot-attributes:project_id": s.project_id,
        "links": links(base, s.project_id, "snapshots", s.id),
    }
    if version >= (3, 14):
        body["group_snapshot_id"] = None
    if version >= (3, 41):
        body["user_id"] = s.user_id
    return body


def snapshot_summary(s: Snapshot) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "description": s.description,
            "volume_id": s.volume_id, "status": s.status, "size": s.size,
            "metadata": dict(s.meta or {}), "created_at": iso(s.created_at),
            "updated_at": iso(s.updated_at)}


def volume_type(t: VolumeType, *, admin: bool) -> dict[str, Any]:
    body = {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "is_public": t.is_public,
        "os-volume-type-access:is_public": t.is_public,
        "qos_specs_id": None,
    }
    if admin or t.extra_specs:
        body["extra_specs"] = dict(t.extra_specs or {}) if admin else {
            k: v for k, v in (t.extra_specs or {}).items() if k in USER_VISIBLE_SPECS}
    return body


USER_VISIBLE_SPECS = {"multiattach", "RESKEY:availability_zones", "replication_enabled"}


def message(m: Message, base: str) -> dict[str, Any]:
    expires = m.expires_at or (m.created_at + timedelta(days=30))
    return {
        "id": m.id,
        "request_id": m.request_id,
        "resource_type": m.resource_type,
        "resource_uuid": m.resource_uuid,
        "event_id": m.event_id,
        "message_level": m.message_level,
        "user_message": m.user_message,
        "created_at": iso(m.created_at),
        "guaranteed_until": iso(expires),
        "links": links(base, m.project_id, "messages", m.id),
    }
