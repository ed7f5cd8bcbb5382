"""The image service in-process: its app over httpx.ASGITransport with the
test validator of image_harness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pocketstack.config import Config
from pocketstack.image.unit import ImageUnit

from .image_harness import Api, make_config, validate


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
async def unit(config: Config) -> AsyncIterator[ImageUnit]:
    u = ImageUnit(config, validate)
    await u.start()
    try:
        yield u
    finally:
        await u.stop()


@pytest.fixture
async def api(unit: ImageUnit) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=unit.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://image.test") as c:
        yield Api(c)
