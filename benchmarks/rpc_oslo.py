"""The oslo.messaging half of benchmarks/rpc.py, run in its own venv (oslo.messaging
is not a pocketstack dependency):

    /tmp/oslo-venv/bin/python benchmarks/rpc_oslo.py serve URL TOPIC
    /tmp/oslo-venv/bin/python benchmarks/rpc_oslo.py client URL TOPIC DURATION CASTS

The client prints one JSON object with the same measures as ours.
"""

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import oslo_messaging
from oslo_config import cfg

PAYLOAD = {"name": "instance-0001", "flavor": {"vcpus": 1, "ram": 512}, "tags": ["a", "b"]}


class Endpoint:
    def __init__(self):
        self.casts = 0
        self.lock = threading.Lock()

    def echo(self, ctxt, value):
        return value

    def note(self, ctxt, value):
        with self.lock:
            self.casts += 1

    def count(self, ctxt):
        return self.casts


def transport(url):
    cfg.CONF([], project="bench")  # the global config, as OpenStack services use it
    return oslo_messaging.get_rpc_transport(cfg.CONF, url=url)  # thread pool: 64 by default


def serve(url, topic):
    server = oslo_messaging.get_rpc_server(
        transport(url), oslo_messaging.Target(topic=topic, server="bench"), [Endpoint()],
        access_policy=oslo_messaging.DefaultRPCAccessPolicy,
    )
    server.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()
    server.wait()


def calls(client, concurrency, duration):
    latencies = []
    deadline = time.monotonic() + duration

    def worker():
        mine = []
        while time.monotonic() < deadline:
            began = time.perf_counter()
            client.call({}, "echo", value=PAYLOAD)
            mine.append(time.perf_counter() - began)
        return mine

    began = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        for mine in pool.map(lambda _: worker(), range(concurrency)):
            latencies.extend(mine)
    elapsed = time.monotonic() - began
    latencies.sort()
    return {"rate": len(latencies) / elapsed,
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


def casts(client, count):
    start = client.call({}, "count")
    began = time.monotonic()
    with ThreadPoolExecutor(64) as pool:
        list(pool.map(lambda _: client.cast({}, "note", value=PAYLOAD), range(count)))
    while client.call({}, "count") < start + count:
        time.sleep(0.01)
    return {"rate": count / (time.monotonic() - began)}


def client_main(url, topic, duration, n_casts):
    client = oslo_messaging.get_rpc_client(transport(url), oslo_messaging.Target(topic=topic),
                                           timeout=30)
    client.call({}, "echo", value=PAYLOAD)  # warm up
    result = {"call_c1": calls(client, 1, duration), "call_c64": calls(client, 64, duration),
              "cast": casts(client, n_casts)}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        client_main(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
