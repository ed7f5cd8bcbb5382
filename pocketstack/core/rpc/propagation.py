"""The trace context that travels in every RPC message (W3C `traceparent`).

Whoever traces (core/tracing.py, OpenTelemetry) sets `current` around its
span; the RPC client copies it into each message, and the server restores
it around the method, so one request can be followed across services.
Without a tracer, a context's `trace_id` still makes a traceparent.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar

from pocketstack.core.context import RequestContext

current: ContextVar[dict[str, str] | None] = ContextVar("pocketstack_trace", default=None)


def inject(ctxt: RequestContext) -> dict[str, str]:
    carrier = current.get()
    if carrier:
        return dict(carrier)
    if ctxt.trace_id and len(ctxt.trace_id) == 32:
        return {"traceparent": f"00-{ctxt.trace_id}-{os.urandom(8).hex()}-01"}
    return {}


@contextlib.contextmanager
def activate(carrier: dict[str, str]) -> Iterator[None]:
    token = current.set(carrier or None)
    try:
        yield
    finally:
        current.reset(token)
