"""Claims that arrive together go to placement in one POST /allocations; a
refused or failed batch is retried claim by claim, so every claimer gets its
own answer."""

from __future__ import annotations

import asyncio

from pocketstack.compute.remote.placement import ClaimBatcher
from pocketstack.core import exceptions as exc


class Placement:
    """Records the requests; `full` consumers are refused, `bad` ones fail."""

    def __init__(self, full: set[str] = frozenset(), bad: set[str] = frozenset()):
        self.full, self.bad = full, bad
        self.posts: list[list[str]] = []
        self.puts: list[str] = []

    async def post(self, bodies: dict[str, dict]) -> bool:
        await asyncio.sleep(0)
        self.posts.append(list(bodies))
        if self.bad & bodies.keys():
            raise exc.BadRequest("no such provider")
        return not self.full & bodies.keys()

    async def put(self, consumer: str, body: dict) -> bool:
        await asyncio.sleep(0)
        self.puts.append(consumer)
        if consumer in self.bad:
            raise exc.BadRequest("no such provider")
        return consumer not in self.full


async def claim_all(batcher: ClaimBatcher, names: list[str]) -> list[bool | Exception]:
    return await asyncio.gather(*(batcher.claim(n, {}) for n in names),
                                return_exceptions=True)


async def test_a_lone_claim_is_a_put_and_a_crowd_is_one_post():
    p = Placement()
    b = ClaimBatcher(p.post, p.put)
    assert await b.claim("alone", {}) is True
    assert p.puts == ["alone"] and p.posts == []
    assert await claim_all(b, [f"c{i}" for i in range(30)]) == [True] * 30
    assert p.posts == [[f"c{i}" for i in range(30)]] and p.puts == ["alone"]


async def test_a_refused_batch_is_retried_one_by_one():
    p = Placement(full={"c3"})
    b = ClaimBatcher(p.post, p.put)
    results = await claim_all(b, [f"c{i}" for i in range(6)])
    assert results == [True, True, True, False, True, True]
    assert p.puts == ["c0", "c1", "c2", "c3", "c4", "c5"]


async def test_a_failing_claim_fails_alone():
    p = Placement(bad={"c2"})
    b = ClaimBatcher(p.post, p.put)
    results = await claim_all(b, ["c0", "c1", "c2", "c3"])
    assert results[:2] == [True, True] and results[3] is True
    assert isinstance(results[2], exc.BadRequest)


async def test_batches_hold_at_most_max():
    p = Placement()
    b = ClaimBatcher(p.post, p.put)
    assert all(await claim_all(b, [f"c{i}" for i in range(121)]))
    assert [len(x) for x in p.posts] == [50, 50, 21]
