"""Regions, services and endpoints: bodies and views."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import StrictBool

from pocketstack.identity import models as m
from pocketstack.identity.schemas.common import Id, Name, Strict, Text

Interface = Literal["public", "internal", "admin"]


class RegionCreate(Strict):
    id: Name | None = None
    description: Text = ""
    parent_region_id: Name | None = None


class RegionUpdate(Strict):
    description: Text | None = None
    parent_region_id: Name | None = None


class RegionBody(Strict):
    region: RegionCreate


class RegionUpdateBody(Strict):
    region: RegionUpdate


class ServiceCreate(Strict):
    type: Name
    name: Name | None = None
    description: Text | None = None
    enabled: StrictBool = True


class ServiceUpdate(Strict):
    type: Name | None = None
    name: Name | None = None
    description: Text | None = None
    enabled: StrictBool | None = None


class ServiceBody(Strict):
    service: ServiceCreate


class ServiceUpdateBody(Strict):
    service: ServiceUpdate


class EndpointCreate(Strict):
    service_id: Id
    interface: Interface
    url: Text
    region_id: Name | None = None
    region: Name | None = None  # the old name of region_id
    enabled: StrictBool = True


class EndpointUpdate(Strict):
    service_id: Id | None = None
    interface: Interface | None = None
    url: Text | None = None
    region_id: Name | None = None
    region: Name | None = None
    enabled: StrictBool | None = None


class EndpointBody(Strict):
    endpoint: EndpointCreate


class EndpointUpdateBody(Strict):
    endpoint: EndpointUpdate


def region_view(r: m.Region, base: str) -> dict[str, Any]:
    return {"id": r.id, "description": r.description or "",
            "parent_region_id": r.parent_region_id,
            "links": {"self": f"{base}/v3/regions/{r.id}"}}


def service_view(svc: m.Service, base: str) -> dict[str, Any]:
    view = {"id": svc.id, "type": svc.type, "enabled": svc.enabled,
            "links": {"self": f"{base}/v3/services/{svc.id}"}}
    if svc.name is not None:
        view["name"] = svc.name
    if svc.description is not None:
        view["description"] = svc.description
    return view


def endpoint_view(e: m.Endpoint, base: str) -> dict[str, Any]:
    return {"id": e.id, "interface": e.interface, "region_id": e.region_id,
            "region": e.region_id, "service_id": e.service_id, "url": e.url,
            "enabled": e.enabled, "links": {"self": f"{base}/v3/endpoints/{e.id}"}}
