import httpx
import pytest
from pydantic import BaseModel

from pocketstack.core import exceptions as exc
from pocketstack.core.web import create_app, keystone_errors, neutron_errors, nova_errors


class Body(BaseModel):
    name: str
    size: int


def build(error_format, max_body=1024):
    app = create_app("test", error_format, max_body=max_body,
                     request_id_header="X-Compute-Request-Id")

    @app.get("/missing")
    async def missing():
        raise exc.NotFound("Thing abc could not be found.")

    @app.post("/things")
    async def create(body: Body):
        return {"thing": body.model_dump()}

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals")

    return app


async def call(app, method, path, **kw):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await c.request(method, path, **kw)


async def test_errors_use_the_service_format():
    r = await call(build(nova_errors), "GET", "/missing")
    assert r.status_code == 404
    assert r.json() == {"itemNotFound": {"code": 404, "message": "Thing abc could not be found."}}
    r = await call(build(keystone_errors), "GET", "/missing")
    assert r.json()["error"]["code"] == 404
    r = await call(build(neutron_errors), "GET", "/missing")
    assert r.json()["NeutronError"]["type"] == "NotFound"


async def test_request_ids_on_every_response():
    r = await call(build(nova_errors), "GET", "/missing")
    rid = r.headers["x-openstack-request-id"]
    assert rid.startswith("req-") and r.headers["x-compute-request-id"] == rid


async def test_validation_errors_are_400_not_422():
    r = await call(build(nova_errors), "POST", "/things", json={"name": "x", "size": "big"})
    assert r.status_code == 400
    assert "size" in r.json()["badRequest"]["message"]


async def test_malformed_json_is_400():
    r = await call(build(keystone_errors), "POST", "/things", content=b"{not json",
                   headers={"content-type": "application/json"})
    assert r.status_code == 400


async def test_unknown_route_and_method_use_the_format():
    app = build(nova_errors)
    assert (await call(app, "GET", "/nowhere")).json()["itemNotFound"]["code"] == 404
    r = await call(app, "DELETE", "/things")
    assert r.status_code == 405 and "badMethod" in r.json()


async def test_unexpected_errors_are_a_500_without_internals():
    r = await call(build(nova_errors), "GET", "/boom")
    assert r.status_code == 500
    assert "secret" not in r.text and "computeFault" in r.json()


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_bodies_are_413(chunked):
    payload = b'{"name": "' + b"x" * 4000 + b'", "size": 1}'
    async def stream():
        yield payload

    content = stream() if chunked else payload
    r = await call(build(keystone_errors), "POST", "/things", content=content,
                   headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == 413
