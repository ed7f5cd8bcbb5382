"""Fixtures for tests that boot real guests (one at a time: the CPU is shared)."""

import pytest

from pocketstack import config as configuration
from pocketstack import testimage


@pytest.fixture(scope="session")
def test_image() -> testimage.TestImage:
    """The test VM image, built once per package versions into the cache dir."""
    return testimage.ensure_built(configuration.load().cache_dir)
