"""Placement's microversions: the range it honours (core.microversion's
middleware reads the request's choice into `scope["state"]["microversion"]`)."""

from __future__ import annotations

from starlette.types import Scope

from pocketstack.core.microversion import Microversions, Version

MIN_VERSION = "1.0"
MAX_VERSION = "1.39"
VERSIONS = Microversions("placement", MIN_VERSION, MAX_VERSION)


def version_of(scope: Scope) -> Version:
    return scope.get("state", {}).get("microversion", VERSIONS.min)
