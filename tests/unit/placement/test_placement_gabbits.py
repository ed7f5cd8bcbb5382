"""Placement's API tests as declarative HTTP exchanges (in the manner of gabbi):
each `gabbits/*.yaml` is a sequence of requests and the responses they must get,
run in order against the real app and a fresh database.

A step: `name`, one of `GET/POST/PUT/DELETE: path`, optional `request_headers`
(merged over the file's `defaults`), `data` (JSON body), and the expectations
`status` (default 200), `response_headers` and `response_json_paths`
(`$.a.b[0]."key"`; `len:$.path` for a length; a value `/regex/` matches text).
In strings, `$ENVIRON['NAME']` is a uuid fixed per file run and
`$RESPONSE['$.path']` a value from the previous response.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NAMES = sorted(p.stem for p in (Path(__file__).parent / "gabbits").glob("*.yaml"))


@pytest.mark.parametrize("name", NAMES)
async def test_gabbit(app, run_gabbit, name: str) -> None:
    await run_gabbit(app, name)
