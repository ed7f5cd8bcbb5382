"""The image API's public contract: the JSON schemas clients fetch from
/v2/schemas/*, the validation of what clients send against them, and the
views of images and members as Glance renders them."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from pocketstack.core import exceptions as exc
from pocketstack.image.models import Image, ImageMember

DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
VISIBILITIES = ["public", "private", "shared", "community"]
STATUSES = ["queued", "saving", "active", "killed", "deleted", "uploading", "importing",
            "pending_delete", "deactivated"]
MEMBER_STATUSES = ["pending", "accepted", "rejected"]

# Attributes the server owns: a client may not set them.
READ_ONLY = {"status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
             "created_at", "updated_at", "file", "self", "schema", "direct_url", "stores",
             "locations", "location", "deleted", "deleted_at"}
# Core attributes a client may set (the rest of a body is custom properties).
WRITABLE = {"name", "id", "visibility", "disk_format", "container_format", "min_disk",
            "min_ram", "protected", "tags", "os_hidden", "owner"}
RESERVED_PREFIX = "os_glance"
MAX_PROPERTY_VALUE = 65535

_UUID = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"

_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "readOnly": True, "pattern": _UUID,
           "description": "An identifier for the image"},
    "name": {"type": ["null", "string"], "maxLength": 255,
             "description": "Descriptive name for the image"},
    "status": {"type": "string", "readOnly": True, "enum": STATUSES,
               "description": "Status of the image"},
    "visibility": {"type": "string", "enum": VISIBILITIES,
                   "description": "Scope of image accessibility"},
    "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
    "os_hidden": {"type": "boolean",
                  "description": "If true, image will not appear in default image list response."},
    "checksum": {"type": ["null", "string"], "readOnly": True, "maxLength": 32,
                 "description": "md5 hash of image contents."},
    "os_hash_algo": {"type": ["null", "string"], "readOnly": True, "maxLength": 64,
                     "description": "Algorithm to calculate the os_hash_value"},
    "os_hash_value": {"type": ["null", "string"], "readOnly": True, "maxLength": 128,
                      "description": "Hexdigest of the image contents using the algorithm "
                                     "specified by the os_hash_algo"},
    "owner": {"type": ["null", "string"], "maxLength": 255,
              "description": "Owner of the image"},
    "size": {"type": ["null", "integer"], "readOnly": True,
             "description": "Size of image file in bytes"},
    "virtual_size": {"type": ["null", "integer"], "readOnly": True,
                     "description": "Virtual size of image in bytes"},
    "container_format": {"type": ["null", "string"], "enum": [None, *CONTAINER_FORMATS],
                         "description": "Format of the container"},
    "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS],
                    "description": "Format of the disk"},
    "created_at": {"type": "string", "readOnly": True,
                   "description": "Date and time of image registration"},
    "updated_at": {"type": "string", "readOnly": True,
                   "description": "Date and time of the last image modification"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 255},
             "description": "List of strings related to the image"},
    "direct_url": {"type": "string", "readOnly": True,
                   "description": "URL to access the image file kept in external store"},
    "min_ram": {"type": "integer", "minimum": 0,
                "description": "Amount of ram (in MB) required to boot image."},
    "min_disk": {"type": "integer", "minimum": 0,
                 "description": "Amount of disk space (in GB) required to boot image."},
    "self": {"type": "string", "readOnly": True,
             "description": "An image self url"},
    "file": {"type": "string", "readOnly": True,
             "description": "An image file url"},
    "stores": {"type": "string", "readOnly": True,
               "description": "Store in which image data resides."},
    "schema": {"type": "string", "readOnly": True,
               "description": "An image schema url"},
    "locations": {"type": "array", "items": {"type": "object"},
                  "description": "A set of URLs to access the image file kept in external store"},
    "kernel_id": {"type": ["null", "string"], "pattern": _UUID, "is_base": False,
                  "description": "ID of image stored in Glance that should be used as the "
                                 "kernel when booting an AMI-style image."},
    "ramdisk_id": {"type": ["null", "string"], "pattern": _UUID, "is_base": False,
                   "description": "ID of image stored in Glance that should be used as the "
                                  "ramdisk when booting an AMI-style image."},
    "instance_uuid": {"type": "string", "is_base": False,
                      "description": "Metadata which can be used to record which instance "
                                     "this image is associated with."},
    "architecture": {"type": "string", "is_base": False,
                     "description": "Operating system architecture"},
    "os_distro": {"type": "string", "is_base": False,
                  "description": "Common name of operating system distribution"},
    "os_version": {"type": "string", "is_base": False,
                   "description": "Operating system version as specified by the distributor"},
}

LINKS = [
    {"rel": "self", "href": "{self}"},
    {"rel": "enclosure", "href": "{file}"},
    {"rel": "describedby", "href": "{schema}"},
]


def image_schema() -> dict[str, Any]:
    return {"name": "image", "properties": _PROPERTIES,
            "additionalProperties": {"type": "string"}, "links": LINKS}


def images_schema() -> dict[str, Any]:
    return {
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image_schema()},
            "schema": {"type": "string"}, "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


def member_schema() -> dict[str, Any]:
    return {
        "name": "member",
        "properties": {
            "created_at": {"type": "string", "description": "Date and time of image member "
                                                            "creation"},
            "image_id": {"type": "string", "pattern": _UUID,
                         "description": "An identifier for the image"},
            "member_id": {"type": "string", "description": "An identifier for the image member "
                                                           "(tenantId)"},
            "schema": {"type": "string", "readOnly": True},
            "status": {"type": "string", "enum": MEMBER_STATUSES,
                       "description": "The status of this image member"},
            "updated_at": {"type": "string", "description": "Date and time of last "
                                                            "modification of image member"},
        },
    }


def members_schema() -> dict[str, Any]:
    return {"name": "members",
            "properties": {"members": {"type": "array", "items": member_schema()},
                           "schema": {"type": "string"}},
            "links": [{"rel": "self", "href": "{self}"},
                      {"rel": "describedby", "href": "{schema}"}]}


# -- validation ----------------------------------------------------------------

def check_core(key: str, value: Any) -> Any:
    """`value` for the writable core attribute `key`, or 400."""
    def bad(why: str) -> exc.BadRequest:
        return exc.BadRequest(f"Provided object does not match schema 'image': {why}")

    if key == "name":
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise bad(f"{value!r} is not a string of at most 255 characters (name)")
    elif key == "id":
        if not isinstance(value, str) or not re.match(_UUID, value):
            raise bad(f"{value!r} is not a valid UUID (id)")
        return str(uuid.UUID(value))
    elif key == "visibility":
        if value not in VISIBILITIES:
            raise bad(f"{value!r} is not one of {VISIBILITIES} (visibility)")
    elif key == "disk_format":
        if value is not None and value not in DISK_FORMATS:
            raise bad(f"{value!r} is not one of {DISK_FORMATS} (disk_format)")
    elif key == "container_format":
        if value is not None and value not in CONTAINER_FORMATS:
            raise bad(f"{value!r} is not one of {CONTAINER_FORMATS} (container_format)")
    elif key in ("min_disk", "min_ram"):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
            raise bad(f"{value!r} is not a non-negative integer ({key})")
    elif key in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise bad(f"{value!r} is not of type 'boolean' ({key})")
    elif key == "tags":
        if not isinstance(value, list) or not all(
                isinstance(t, str) and 0 < len(t) <= 255 for t in value):
            raise bad("tags must be a list of strings of 1 to 255 characters")
        return list(dict.fromkeys(value))
    elif key == "owner":
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise bad(f"{value!r} is not a string (owner)")
    return value


def check_property(key: str, value: Any) -> str:
    """A custom property's value, or 400/403."""
    if not isinstance(key, str) or not 0 < len(key) <= 255:
        raise exc.BadRequest("Property names must be strings of 1 to 255 characters.")
    if key.startswith(RESERVED_PREFIX):
        raise exc.Forbidden(f"Attribute '{key}' is reserved.")
    if key in READ_ONLY:
        raise exc.Forbidden(f"Attribute '{key}' is read-only.")
    if not isinstance(value, str):
        raise exc.BadRequest(f"Provided object does not match schema 'image': "
                             f"{value!r} is not of type 'string' ({key})")
    if len(value) > MAX_PROPERTY_VALUE:
        raise exc.BadRequest(f"Property {key} is too long.")
    base = _PROPERTIES.get(key, {})
    if "pattern" in base and not re.match(base["pattern"], value):
        raise exc.BadRequest(f"Provided object does not match schema 'image': "
                             f"{value!r} does not match the pattern of {key}")
    return value


# -- views ---------------------------------------------------------------------

def timestamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def image_view(image: Image, direct_url: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        p.name: p.value for p in image.properties
    }
    body.update({
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": image.os_hidden,
        "owner": image.owner,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo,
        "os_hash_value": image.os_hash_value,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "tags": sorted(t.value for t in image.tags),
        "created_at": timestamp(image.created_at),
        "updated_at": timestamp(image.updated_at),
        "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    })
    if image.store and image.location:
        body["stores"] = image.store
        if direct_url and image.status == "active" and image.location.startswith("file://"):
            body["direct_url"] = image.location  # Glance's show_image_direct_url
    return body


def member_view(member: ImageMember) -> dict[str, Any]:
    return {
        "image_id": member.image_id,
        "member_id": member.member,
        "status": member.status,
        "created_at": timestamp(member.created_at),
        "updated_at": timestamp(member.updated_at),
        "schema": "/v2/schemas/member",
    }
