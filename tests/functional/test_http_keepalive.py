"""HTTP/1.1 keep-alive on `pocketstack up`: the OpenStack clients pool
connections and do not retry a POST whose connection the server dropped, so an
idle connection must outlive the clients' own idle timeouts (httpx drops idle
connections after 5 s; uvicorn's default keep-alive is also 5 s, a race that
loses requests)."""

from __future__ import annotations

import http.client
import json
import time


def test_idle_connection_still_takes_a_post(cloud):
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=30)
    conn.request("GET", "/identity/v3")
    first = conn.getresponse()
    first.read()
    assert first.status == 200 and first.getheader("connection", "").lower() != "close"
    sock = conn.sock
    time.sleep(6)
    conn.request("POST", "/identity/v3/auth/tokens", body=json.dumps(cloud.auth_body()),
                 headers={"Content-Type": "application/json"})
    second = conn.getresponse()  # http.client never retries: a dropped socket fails here
    second.read()
    assert second.status == 201
    assert conn.sock is sock, "the server closed the idle connection"
    conn.close()
