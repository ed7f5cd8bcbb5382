"""Spans: parents across RPC's propagation context, and the OTLP/HTTP JSON export."""

from __future__ import annotations

import json

import httpx

from pocketstack.core.rpc import propagation
from pocketstack.core.tracing import OtlpExporter, Span, SpanBuffer, Tracer, trace_id_for


def test_child_spans_and_the_traceparent():
    done: list[Span] = []
    tracer = Tracer("test", done.append)
    trace = trace_id_for("req-0c8f6d8e-1f7b-4f0e-9d55-1c2b3a4d5e6f")
    assert trace == "0c8f6d8e1f7b4f0e9d551c2b3a4d5e6f"
    with tracer.span("root", "3", trace_id=trace) as root:
        carrier = propagation.current.get()
        assert carrier["traceparent"] == f"00-{trace}-{root.span_id}-01"
        with tracer.span("child", "6-7") as child:
            pass
    assert propagation.current.get() is None
    assert child.parent_id == root.span_id and child.trace_id == trace
    assert [s.name for s in done] == ["child", "root"]
    with propagation.activate(carrier):  # as an RPC server restores it
        with tracer.span("remote", "9") as remote:
            pass
    assert remote.trace_id == trace and remote.parent_id == root.span_id


async def test_buffer_exports_otlp_json():
    seen = []

    def collector(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    exporter = OtlpExporter("http://collector/v1/traces",
                            httpx.AsyncClient(transport=httpx.MockTransport(collector)))
    buffer = SpanBuffer([exporter])
    tracer = Tracer("compute", buffer.add)
    with tracer.span("build", "28", host="fake-1"):
        pass
    await buffer.flush()
    (request,) = seen
    body = json.loads(request.content)
    (span,) = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert span["name"] == "build" and len(span["traceId"]) == 32
    attrs = {a["key"]: a["value"]["stringValue"] for a in span["attributes"]}
    assert attrs == {"pocketstack.service": "compute", "pocketstack.step": "28",
                     "host": "fake-1"}
