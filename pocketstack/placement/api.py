"""Placement's one explicit route table and the app that serves it.

Each handler module is named for its resource (handlers/trait.py, objects/trait.py);
a route's handler checks policy, validates, calls its object module, renders.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp

from pocketstack.core.auth import AuthMiddleware, Validate
from pocketstack.core.microversion import MicroversionMiddleware
from pocketstack.core.web import create_app, placement_errors
from pocketstack.placement.handlers import (
    aggregate,
    allocation,
    allocation_candidate,
    inventory,
    reshaper,
    resource_class,
    resource_provider,
    root,
    trait,
    usage,
)
from pocketstack.placement.microversion import VERSIONS
from pocketstack.placement.service import Placement

RP = "/resource_providers/{uuid}"

ROUTES: list[tuple[str, dict[str, Callable]]] = [
    ("/", {"GET": root.versions}),
    ("/resource_providers", {"GET": resource_provider.list_providers,
                             "POST": resource_provider.create_provider}),
    (RP, {"GET": resource_provider.show_provider, "PUT": resource_provider.update_provider,
          "DELETE": resource_provider.delete_provider}),
    (f"{RP}/inventories", {"GET": inventory.list_inventories,
                           "POST": inventory.create_inventory,
                           "PUT": inventory.replace_inventories,
                           "DELETE": inventory.delete_inventories}),
    (f"{RP}/inventories/{{resource_class}}", {"GET": inventory.show_inventory,
                                              "PUT": inventory.update_inventory,
                                              "DELETE": inventory.delete_inventory}),
    (f"{RP}/aggregates", {"GET": aggregate.list_aggregates,
                          "PUT": aggregate.update_aggregates}),
    (f"{RP}/traits", {"GET": trait.list_provider_traits, "PUT": trait.update_provider_traits,
                      "DELETE": trait.delete_provider_traits}),
    (f"{RP}/allocations", {"GET": allocation.list_provider_allocations}),
    (f"{RP}/usages", {"GET": usage.provider_usages}),
    ("/resource_classes", {"GET": resource_class.list_classes,
                           "POST": resource_class.create_class}),
    ("/resource_classes/{name}", {"GET": resource_class.show_class,
                                  "PUT": resource_class.put_class,
                                  "DELETE": resource_class.delete_class}),
    ("/traits", {"GET": trait.list_traits}),
    ("/traits/{name}", {"GET": trait.show_trait, "PUT": trait.put_trait,
                        "DELETE": trait.delete_trait}),
    ("/allocations", {"POST": allocation.post_allocations}),
    ("/allocations/{consumer_uuid}", {"GET": allocation.show_allocations,
                                      "PUT": allocation.put_allocations,
                                      "DELETE": allocation.delete_allocations}),
    ("/usages", {"GET": usage.project_usages}),
    ("/allocation_candidates", {"GET": allocation_candidate.list_candidates}),
    ("/reshaper", {"POST": reshaper.reshape}),
]


def is_public(method: str, path: str) -> bool:
    return path in ("", "/")


def build_app(placement: Placement, validate: Validate) -> ASGIApp:
    app: FastAPI = create_app("placement", placement_errors)
    app.state.placement = placement
    for path, methods in ROUTES:
        for method, handler in methods.items():
            app.add_route(path, handler, methods=[method])
    app.add_middleware(MicroversionMiddleware, versions=VERSIONS, error_format=placement_errors)
    return AuthMiddleware(app, validate, placement_errors, public=is_public)

