"""GET /allocation_candidates (1.10+): where a request for resources could go."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from pocketstack.core import exceptions as exc
from pocketstack.placement import errors, http, query
from pocketstack.placement.objects import allocation_candidate
from pocketstack.placement.objects.allocation_candidate import Summary

_NUMBERED = re.compile(r"^(resources|required|member_of|in_tree)[0-9A-Za-z_-]+$")


def parse_limit(req: Request) -> int | None:
    text = http.query(req, "limit") if http.want(req, "1.16") else None
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise query.bad(f"Invalid query string parameters: '{text}' does not match '^[1-9]"
                        "[0-9]*$'")
    return int(text)


def allocation_request(req: Request, uuid: str, amounts: dict[str, int]) -> dict:
    if not http.want(req, "1.12"):
        return {"allocations": [{"resource_provider": {"uuid": uuid}, "resources": amounts}]}
    out: dict = {"allocations": {uuid: {"resources": amounts}}}
    if http.want(req, "1.34"):
        out["mappings"] = {"": [uuid]}
    return out


def summary(req: Request, sm: Summary) -> dict:
    out: dict = {"resources": sm.resources}
    if http.want(req, "1.17"):
        out["traits"] = sm.traits
    if http.want(req, "1.29"):
        out["parent_provider_uuid"] = sm.parent_provider_uuid
        out["root_provider_uuid"] = sm.root_provider_uuid
    return out


async def list_candidates(req: Request) -> Response:
    http.require(req, "1.10")
    svc = http.authorize(req, "placement:allocation_candidates:list")
    if any(_NUMBERED.match(k) for k in req.query_params):
        raise exc.BadRequest("Numbered request groups (resources1=...) are not supported by "
                             "this Placement.", code=errors.QUERYPARAM_BAD_VALUE)
    text = http.query(req, "resources")
    if not text:
        raise exc.BadRequest("Invalid query string parameters: 'resources' is a required "
                             "property", code=errors.QUERYPARAM_MISSING_VALUE)
    amounts = query.parse_resources(text)
    limit = parse_limit(req)
    async with svc.db.read() as s:
        f = await query.provider_filter(s, req, svc.vocabulary, for_candidates=True)
        f.limit = limit
        rp_ids = await allocation_candidate.find(s, f)
        only = None if http.want(req, "1.27") else list(f.resources)
        sums = await allocation_candidate.summaries(s, rp_ids, svc.vocabulary, only)
    return http.respond({
        "allocation_requests": [allocation_request(req, sm.uuid, amounts)
                                for sm in sums],
        "provider_summaries": {sm.uuid: summary(req, sm) for sm in sums},
    })
