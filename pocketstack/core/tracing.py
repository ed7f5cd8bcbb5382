"""Spans: timed, named steps of a request, linked across REST and RPC.

A span carries the launch step it measures (ARCHITECTURE.md's table, e.g.
"19-21") and the service that ran it. The active span lives in RPC's
propagation context (a W3C `traceparent`), so the RPC client sends it with
every message and the server restores it: spans made on the far side of a
call are children of the caller's. Finished spans go to a sink; `SpanBuffer`
batches them for whoever stores them, and `otlp_json` renders a batch as
OpenTelemetry's OTLP/HTTP JSON for export to a collector.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from pocketstack.core.rpc import propagation

log = logging.getLogger(__name__)

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


@dataclass
class Span:
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_id: str | None
    name: str
    service: str
    step: str | None = None
    start: float = field(default_factory=time.time)  # unix seconds
    end: float = 0.0
    status: str = "ok"  # or "error"
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return max(self.end - self.start, 0.0) * 1000


def trace_id_for(request_id: str) -> str:
    """The trace id of a request: the hex of its `req-<uuid>` id (so the two tie up)."""
    digits = request_id.removeprefix("req-").replace("-", "").lower()
    return digits if re.fullmatch(r"[0-9a-f]{32}", digits) else os.urandom(16).hex()


def active() -> tuple[str, str] | None:
    """(trace id, span id) of the span active here, from the propagation context."""
    carrier = propagation.current.get() or {}
    m = _TRACEPARENT.match(carrier.get("traceparent", ""))
    return (m.group(1), m.group(2)) if m else None


class Tracer:
    """Makes spans for one service and hands the finished ones to `sink`."""

    def __init__(self, service: str, sink: Callable[[Span], None]):
        self.service, self.sink = service, sink

    @contextlib.contextmanager
    def span(self, name: str, step: str | None = None, *, trace_id: str | None = None,
             **attributes: Any) -> Iterator[Span]:
        """A span around the block, child of the active one (or the root of
        `trace_id`); it is active inside the block."""
        parent = active()
        trace = trace_id or (parent[0] if parent else os.urandom(16).hex())
        span = Span(trace, os.urandom(8).hex(), parent[1] if parent and not trace_id else None,
                    name, self.service, step, attributes=attributes)
        token = propagation.current.set({"traceparent": f"00-{trace}-{span.span_id}-01"})
        try:
            yield span
        except BaseException as err:
            span.status = "error"
            span.attributes["error"] = f"{type(err).__name__}: {err}"[:500]
            raise
        finally:
            propagation.current.reset(token)
            span.end = time.time()
            self.sink(span)

    def record(self, name: str, step: str | None, start: float, end: float,
               **attributes: Any) -> None:
        """A span measured elsewhere (e.g. before this service saw the request)."""
        parent = active()
        if parent is None:
            return
        self.sink(Span(parent[0], os.urandom(8).hex(), parent[1], name, self.service, step,
                       start, end, attributes=attributes))


Writer = Callable[[list[Span]], Awaitable[None]]


class SpanBuffer:
    """Collects finished spans; `run` hands them to the writers in batches."""

    def __init__(self, writers: list[Writer], interval: float = 0.5, limit: int = 100_000):
        self.writers, self.interval, self.limit = writers, interval, limit
        self._spans: list[Span] = []

    def add(self, span: Span) -> None:
        if len(self._spans) < self.limit:  # never grow without bound if writers stall
            self._spans.append(span)

    async def flush(self) -> None:
        batch, self._spans = self._spans, []
        if not batch:
            return
        for write in self.writers:
            try:
                await write(batch)
            except Exception:  # noqa: BLE001 - tracing never breaks the traced work
                log.exception("writing %d spans failed", len(batch))

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.interval)
                await self.flush()
        finally:
            await self.flush()


def otlp_json(spans: list[Span], resource: str = "pocketstack") -> dict[str, Any]:
    """A batch as an OTLP/HTTP JSON ExportTraceServiceRequest."""
    def attr(key: str, value: Any) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"key": key, "value": {"boolValue": value}}
        if isinstance(value, int):
            return {"key": key, "value": {"intValue": str(value)}}
        return {"key": key, "value": {"stringValue": str(value)}}

    def one(s: Span) -> dict[str, Any]:
        attrs = [attr("pocketstack.service", s.service)]
        attrs += [attr("pocketstack.step", s.step)] if s.step else []
        attrs += [attr(k, v) for k, v in s.attributes.items()]
        body = {"traceId": s.trace_id, "spanId": s.span_id, "name": s.name, "kind": 1,
                "startTimeUnixNano": str(int(s.start * 1e9)),
                "endTimeUnixNano": str(int(s.end * 1e9)), "attributes": attrs,
                "status": {"code": 2 if s.status == "error" else 1}}
        if s.parent_id:
            body["parentSpanId"] = s.parent_id
        return body

    return {"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", resource)]},
        "scopeSpans": [{"scope": {"name": "pocketstack.core.tracing"},
                        "spans": [one(s) for s in spans]}],
    }]}


class OtlpExporter:
    """A SpanBuffer writer that POSTs batches to an OTLP/HTTP JSON endpoint."""

    def __init__(self, url: str, http: httpx.AsyncClient | None = None):
        self.url = url
        self.http = http or httpx.AsyncClient(timeout=5.0)

    async def __call__(self, spans: list[Span]) -> None:
        resp = await self.http.post(self.url, json=otlp_json(spans))
        if resp.status_code >= 300:
            log.warning("OTLP collector at %s answered %s", self.url, resp.status_code)
