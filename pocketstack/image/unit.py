"""The image service as a pocketstack unit: its app (behind token auth), its
database and stores, and its first-start default (a tiny public cirros image)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pocketstack.config import Config
from pocketstack.core.auth import AuthMiddleware
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.core.web import create_app, glance_errors
from pocketstack.image import api, discovery
from pocketstack.image.cirros import bootable_disk, ensure_cirros
from pocketstack.image.policies import DEFAULTS
from pocketstack.image.service import ImageService
from pocketstack.image.stores import ImageStore
from pocketstack.image.stores.file import FileStore
from pocketstack.image.stores.memory import MemoryStore
from pocketstack.image.transfer import Transfers

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def public(method: str, path: str) -> bool:
    return path.rstrip("/") in ("", "/versions")


def make_stores(config: Config) -> tuple[ImageStore, ImageStore]:
    if config.image.store == "memory":
        return MemoryStore(), MemoryStore()
    return (FileStore(config.state_dir / "image" / "images", fsync=config.image.fsync),
            FileStore(config.state_dir / "image" / "staging", fsync=False))


class ImageUnit:
    def __init__(self, config: Config, validate: Any, data_store: ImageStore | None = None,
                 staging: ImageStore | None = None):
        if data_store is None or staging is None:
            data_store, staging = make_stores(config)
        self.db = Database(config.database_for("image"), MIGRATIONS)
        self.images = ImageService(self.db, data_store, staging,
                                   Enforcer(DEFAULTS, config.policy_file), config.image)
        self.transfers = Transfers(self.images)
        inner = create_app("image", glance_errors, max_body=None)
        inner.include_router(discovery.build_router(self.db, config.image, data_store.name))
        inner.include_router(api.build_router(self.images, self.transfers,
                                              config.image.show_image_direct_url))
        self.fastapi = inner
        self.config = config
        self.app = AuthMiddleware(inner, validate, glance_errors, public=public)

    async def start(self) -> None:
        await self.db.start()
        await self.transfers.recover()

    async def stop(self) -> None:
        await self.transfers.stop()
        await self.db.close()

    async def bootstrap(self, info: Any) -> None:
        await ensure_cirros(self.images, self.transfers, info.admin_ctx,
                            await bootable_disk(self.config))


async def build(runtime: Any) -> ImageUnit:
    return ImageUnit(runtime.config, runtime.validator.validate)

