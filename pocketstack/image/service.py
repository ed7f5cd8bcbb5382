"""The image service's domain logic on metadata: images, their properties
and tags, sharing (visibility and members), activation, quotas on counts.
Data transfer is in transfer.py. Every method takes the caller's context;
an image the caller may not see is a 404, an action it may not take a 403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pocketstack.config import ImageConfig
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.image import schemas, store
from pocketstack.image.models import Image, ImageMember, ImageProperty, ImageTag
from pocketstack.image.stores import ImageStore

MAX_TAGS = 128
MAX_MEMBERS = 128


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class PatchOp:
    op: str  # add | replace | remove
    path: str  # the attribute name (the JSON pointer decoded)
    value: Any = None


def target(image: Image, member_id: str | None = None) -> dict[str, Any]:
    return {"owner": image.owner, "project_id": image.owner, "member_id": member_id,
            "visibility": image.visibility}


class ImageService:
    def __init__(self, db: Database, data_store: ImageStore, staging: ImageStore,
                 enforcer: Enforcer, config: ImageConfig):
        self.db, self.data_store, self.staging = db, data_store, staging
        self.enforcer, self.config = enforcer, config

    # -- reading ----------------------------------------------------------------

    async def get(self, ctx: RequestContext, image_id: str) -> Image:
        self.enforcer.enforce(ctx, "image:get_image")
        async with self.db.read() as s:
            image = await s.get(Image, image_id)
            if image is None or not await store.visible(s, ctx, image):
                raise exc.NotFound(f"No image found with ID {image_id}")
            return image

    async def list(self, ctx: RequestContext, query: store.ListQuery) -> list[Image]:
        self.enforcer.enforce(ctx, "image:get_images")
        async with self.db.read() as s:
            return await store.list_images(s, ctx, query)

    # -- creating, changing, deleting -----------------------------------------

    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> Image:
        core, props = split_body(body)
        owner = core.pop("owner", None) or ctx.project_id
        tags = core.pop("tags", [])
        if len(tags) > MAX_TAGS:
            raise exc.OverQuota(f"Maximum number of tags ({MAX_TAGS}) exceeded.")
        image = Image(id=core.pop("id", None) or str(uuid.uuid4()), status="queued",
                      visibility=core.pop("visibility", "shared"), owner=owner,
                      created_at=now(), updated_at=now(), **core)
        self.enforcer.enforce(ctx, "image:add_image", target(image))
        if owner != ctx.project_id:
            self.enforcer.enforce(ctx, "image:set_owner", target(image))
        self._check_visibility(ctx, image, image.visibility)
        image.properties = [ImageProperty(name=k, value=v) for k, v in props.items()]
        image.tags = [ImageTag(value=t) for t in tags]
        async with self.db.write() as s:
            if await s.get(Image, image.id) is not None:
                raise exc.Conflict(f"An image with identifier {image.id} already exists")
            count, _, _ = await store.usage(s, owner)
            limit = self.config.image_count_total
            if limit >= 0 and count >= limit:
                raise exc.OverQuota(f"Image count quota exceeded: project {owner} may have "
                                    f"{limit} images.")
            s.add(image)
        return image

    def _check_visibility(self, ctx: RequestContext, image: Image, visibility: str) -> None:
        if visibility == "public":
            self.enforcer.enforce(ctx, "image:publicize_image", target(image))
        elif visibility == "community":
            self.enforcer.enforce(ctx, "image:communitize_image", target(image))

    async def update(self, ctx: RequestContext, image_id: str, ops: list[PatchOp]) -> Image:
        async with self.db.write() as s:
            image = await self._writable(s, ctx, image_id, "image:modify_image")
            for op in ops:
                self._apply(ctx, image, op)
            image.updated_at = now()
        return await self.get(ctx, image_id)

    def _apply(self, ctx: RequestContext, image: Image, op: PatchOp) -> None:
        key = op.path
        if key in schemas.WRITABLE:
            if op.op == "remove":
                raise exc.Forbidden(f"Cannot remove core attribute '{key}'.")
            self._set_core(ctx, image, key, schemas.check_core(key, op.value))
            return
        if key in schemas.READ_ONLY:
            raise exc.Forbidden(f"Attribute '{key}' is read-only.")
        props = {p.name: p for p in image.properties}
        if op.op == "remove":
            if key not in props:
                raise exc.Conflict(f"Property {key} does not exist.")
            image.properties.remove(props[key])
            return
        if op.op == "replace" and key not in props:
            raise exc.Conflict(f"Property {key} does not exist.")
        value = schemas.check_property(key, op.value)
        if key in props:
            props[key].value = value
        else:
            image.properties.append(ImageProperty(name=key, value=value))

    def _set_core(self, ctx: RequestContext, image: Image, key: str, value: Any) -> None:
        if key == "id":
            if value != image.id:
                raise exc.Forbidden("Attribute 'id' is read-only.")
        elif key == "tags":
            if len(value) > MAX_TAGS:
                raise exc.OverQuota(f"Maximum number of tags ({MAX_TAGS}) exceeded.")
            image.tags = [t for t in image.tags if t.value in value] + [
                ImageTag(value=v) for v in value if v not in {t.value for t in image.tags}]
        elif key == "visibility":
            if value != image.visibility:
                self._check_visibility(ctx, image, value)
            image.visibility = value
        elif key == "owner":
            if value != image.owner:
                self.enforcer.enforce(ctx, "image:set_owner", target(image))
            image.owner = value
        elif key in ("disk_format", "container_format"):
            if image.status != "queued" and value != getattr(image, key):
                raise exc.Forbidden(f"Attribute {key} can be only replaced for a queued image.")
            setattr(image, key, value)
        else:
            setattr(image, key, value)

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        async with self.db.write() as s:
            image = await self._writable(s, ctx, image_id, "image:delete_image")
            if image.protected:
                raise exc.Forbidden(f"Image {image_id} is protected and cannot be deleted.")
            locations = [(self.data_store, image.location), (self.staging, image.staged_location)]
            await s.delete(image)
        for where, location in locations:
            if location:
                await where.delete(location)

    async def set_active(self, ctx: RequestContext, image_id: str, active: bool) -> None:
        action = "image:reactivate" if active else "image:deactivate"
        async with self.db.write() as s:
            image = await self._writable(s, ctx, image_id, action)
            allowed = ("active", "deactivated")
            if image.status not in allowed:
                verb = "reactivate" if active else "deactivate"
                raise exc.Forbidden(f"Not allowed to {verb} image in status '{image.status}'")
            image.status = "active" if active else "deactivated"
            image.updated_at = now()

    async def add_tag(self, ctx: RequestContext, image_id: str, tag: str) -> None:
        if not 0 < len(tag) <= 255:
            raise exc.BadRequest("Tags must be 1 to 255 characters long.")
        async with self.db.write() as s:
            image = await self._writable(s, ctx, image_id, "image:modify_image")
            if tag not in {t.value for t in image.tags}:
                if len(image.tags) >= MAX_TAGS:
                    raise exc.OverQuota(f"Maximum number of tags ({MAX_TAGS}) exceeded.")
                image.tags.append(ImageTag(value=tag))
            image.updated_at = now()

    async def delete_tag(self, ctx: RequestContext, image_id: str, tag: str) -> None:
        async with self.db.write() as s:
            image = await self._writable(s, ctx, image_id, "image:modify_image")
            found = [t for t in image.tags if t.value == tag]
            if not found:
                raise exc.NotFound(f"Tag {tag} not found on image {image_id}.")
            image.tags.remove(found[0])
            image.updated_at = now()

    async def _writable(self, s: Any, ctx: RequestContext, image_id: str,
                        action: str) -> Image:
        """The image, visible to ctx and allowed for `action`, in session `s`."""
        image = await s.get(Image, image_id, with_for_update=True)
        if image is None or not await store.visible(s, ctx, image):
            raise exc.NotFound(f"No image found with ID {image_id}")
        self.enforcer.enforce(ctx, action, target(image))
        return image

    # -- members ---------------------------------------------------------------

    async def members(self, ctx: RequestContext, image_id: str) -> list[ImageMember]:
        async with self.db.read() as s:
            image = await self._shared(s, ctx, image_id)
            if ctx.is_admin or image.owner == ctx.project_id:
                self.enforcer.enforce(ctx, "image:get_members", target(image))
                return await store.members(s, image_id)
            own = await store.get_member(s, image_id, ctx.project_id)
            self.enforcer.enforce(ctx, "image:get_members", target(image, ctx.project_id))
            return [own] if own else []

    async def member(self, ctx: RequestContext, image_id: str, member_id: str) -> ImageMember:
        async with self.db.read() as s:
            image = await self._shared(s, ctx, image_id)
            found = await store.get_member(s, image_id, member_id)
            mine = ctx.is_admin or image.owner == ctx.project_id or member_id == ctx.project_id
            if found is None or not mine:
                raise exc.NotFound(f"Member {member_id} not found for image {image_id}.")
            self.enforcer.enforce(ctx, "image:get_member", target(image, member_id))
            return found

    async def add_member(self, ctx: RequestContext, image_id: str, member_id: Any) -> ImageMember:
        if not isinstance(member_id, str) or not 0 < len(member_id) <= 255:
            raise exc.BadRequest("Member to be added not specified")
        async with self.db.write() as s:
            image = await self._shared(s, ctx, image_id)
            self.enforcer.enforce(ctx, "image:add_member", target(image, member_id))
            if await store.get_member(s, image_id, member_id) is not None:
                raise exc.Conflict(f"Member {member_id} already associated with image "
                                   f"{image_id}.")
            if await store.count_members(s, image_id) >= MAX_MEMBERS:
                raise exc.OverQuota(f"Maximum number of members ({MAX_MEMBERS}) exceeded.")
            member = ImageMember(image_id=image_id, member=member_id, status="pending",
                                 created_at=now(), updated_at=now())
            s.add(member)
        return member

    async def update_member(self, ctx: RequestContext, image_id: str, member_id: str,
                            status: Any) -> ImageMember:
        if status not in schemas.MEMBER_STATUSES:
            raise exc.BadRequest(f"Provided object does not match schema 'member': "
                                 f"{status!r} is not one of {schemas.MEMBER_STATUSES}")
        async with self.db.write() as s:
            image = await self._shared(s, ctx, image_id)
            member = await store.get_member(s, image_id, member_id)
            if member is None:
                raise exc.NotFound(f"Member {member_id} not found for image {image_id}.")
            self.enforcer.enforce(ctx, "image:modify_member", target(image, member_id))
            member.status, member.updated_at = status, now()
        return member

    async def delete_member(self, ctx: RequestContext, image_id: str, member_id: str) -> None:
        async with self.db.write() as s:
            image = await self._shared(s, ctx, image_id)
            member = await store.get_member(s, image_id, member_id)
            self.enforcer.enforce(ctx, "image:delete_member", target(image, member_id))
            if member is None:
                raise exc.NotFound(f"Member {member_id} not found for image {image_id}.")
            await s.delete(member)

    async def _shared(self, s: Any, ctx: RequestContext, image_id: str) -> Image:
        image = await s.get(Image, image_id, with_for_update=True)
        if image is None or not await store.visible(s, ctx, image):
            raise exc.NotFound(f"No image found with ID {image_id}")
        if image.visibility != "shared":
            raise exc.Forbidden("Only shared images have members.")
        return image


def split_body(body: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A create request's core attributes (checked) and custom properties."""
    if not isinstance(body, dict):
        raise exc.BadRequest("The request body must be a JSON object.")
    core, props = {}, {}
    for key, value in body.items():
        if key in schemas.WRITABLE:
            core[key] = schemas.check_core(key, value)
        elif key in schemas.READ_ONLY:
            raise exc.Forbidden(f"Attribute '{key}' is read-only.")
        else:
            props[key] = schemas.check_property(key, value)
    for key in ("protected", "os_hidden"):
        core.setdefault(key, False)
    for key in ("min_disk", "min_ram"):
        core.setdefault(key, 0)
    return core, props
