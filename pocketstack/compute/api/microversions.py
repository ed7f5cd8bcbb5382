"""The compute API's microversion range and the per-request version.

The maximum is what the installed openstackclient/openstacksdk ask for on
servers (2.100); behaviour changes below it are implemented where the
endpoints they touch exist (see views.py for the server body).
"""

from __future__ import annotations

from fastapi import Request

from pocketstack.core.microversion import Microversions, Version

MIN, MAX = "2.1", "2.100"
COMPUTE = Microversions("compute", MIN, MAX, legacy_header="X-OpenStack-Nova-API-Version")


def version(request: Request) -> Version:
    """FastAPI dependency: the microversion of this request."""
    return request.scope.get("state", {}).get("microversion") or COMPUTE.min


def at_least(v: Version, text: str) -> bool:
    return v >= Version.parse(text)
