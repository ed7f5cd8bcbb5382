"""The query-string grammar GET /resource_providers and GET /allocation_candidates
share: `resources=VCPU:1,MEMORY_MB:512`, `required=A,!B,in:C,D`,
`member_of=in:AGG1,AGG2` / `!in:...`, `in_tree=UUID`, resolved to database ids."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pocketstack.core import exceptions as exc
from pocketstack.placement import errors, http
from pocketstack.placement.objects import aggregate, resource_provider
from pocketstack.placement.objects.names import Vocabulary
from pocketstack.placement.objects.resource_provider import ProviderFilter
from pocketstack.placement.schemas import canonical_uuid


def bad(message: str) -> exc.BadRequest:
    return exc.BadRequest(message, code=errors.QUERYPARAM_BAD_VALUE)


def parse_resources(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.split(","):
        name, sep, amount = part.partition(":")
        if not sep or not name or not amount.strip().isdigit():
            raise bad(f"Badly formed resources parameter. Expected resources query string "
                      f"parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: {text}.")
        if name in out:
            raise bad(f"Badly formed resources parameter. Resource {name} was included "
                      "twice.")
        if int(amount) < 1:
            raise bad(f"Requested resource {name} expected positive integer amount.")
        out[name] = int(amount)
    return out


def parse_traits(values: list[str], allow_forbidden: bool, allow_any: bool,
                 ) -> tuple[list[list[str]], list[str]]:
    """(required: each a list of alternatives, forbidden) from required= values."""
    required: list[list[str]] = []
    forbidden: list[str] = []
    for value in values:
        if allow_any and value.startswith("in:"):
            names = value[3:].split(",")
            if not all(names):
                raise bad(f"Invalid query string parameters: Expected 'required' parameter "
                          f"value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: {value}")
            required.append(names)
            continue
        for name in value.split(","):
            if not name or (name.startswith("!") and not allow_forbidden):
                raise bad(f"Invalid query string parameters: Expected 'required' parameter "
                          f"value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: {value}")
            if name.startswith("!"):
                forbidden.append(name[1:])
            else:
                required.append([name])
    return required, forbidden


def parse_member_of(values: list[str], allow_forbidden: bool) -> tuple[list[list[str]], list[str]]:
    member_of: list[list[str]] = []
    not_member_of: list[str] = []
    for value in values:
        negative = value.startswith("!")
        if negative:
            if not allow_forbidden:
                raise bad(f"Invalid query string parameters: Expected 'member_of' parameter "
                          f"to contain valid UUID(s). Got: {value}")
            value = value[1:]
        text = value[3:] if value.startswith("in:") else value
        try:
            uuids = [canonical_uuid(u) for u in text.split(",")]
        except ValueError:
            raise bad(f"Invalid query string parameters: Expected 'member_of' parameter to "
                      f"contain valid UUID(s). Got: {value}") from None
        if negative:
            not_member_of.extend(uuids)
        else:
            member_of.append(uuids)
    return member_of, not_member_of


async def trait_ids(s: AsyncSession, vocab: Vocabulary, names: set[str]) -> dict[str, int]:
    found = await vocab.traits.ids(s, names)
    missing = sorted(names - found.keys())
    if missing:
        raise exc.BadRequest(f"No such trait(s): {', '.join(missing)}")
    return found


async def provider_filter(s: AsyncSession, req: Request, vocab: Vocabulary, *,
                          for_candidates: bool) -> ProviderFilter:
    f = ProviderFilter()
    text = http.query(req, "resources")
    if text is not None and (for_candidates or http.want(req, "1.4")):
        amounts = parse_resources(text)
        ids = await vocab.classes.ids(s, amounts)
        unknown = sorted(set(amounts) - ids.keys())
        if unknown:
            raise exc.BadRequest(f"Invalid resource class in resources parameter: "
                                 f"{', '.join(unknown)}")
        f.resources = {ids[n]: a for n, a in amounts.items()}
    required_min = "1.17" if for_candidates else "1.18"
    if http.want(req, required_min):
        req_values = http.query(req, "required", repeatable=True)
        required, forbidden = parse_traits(req_values, http.want(req, "1.22"),
                                           http.want(req, "1.39"))
        names = {n for alts in required for n in alts} | set(forbidden)
        ids = await trait_ids(s, vocab, names)
        f.required = [[ids[n] for n in alts] for alts in required]
        f.forbidden = [ids[n] for n in forbidden]
    if http.want(req, "1.21" if for_candidates else "1.3"):
        values = http.query(req, "member_of", repeatable=True)
        if len(values) > 1 and not http.want(req, "1.24"):
            raise exc.BadRequest("Multiple member_of parameters are not supported before "
                                 "microversion 1.24.")
        member_of, not_member_of = parse_member_of(values, http.want(req, "1.32"))
        f.member_of = [await aggregate.ids_for(s, alts) or [-1] for alts in member_of]
        f.not_member_of = await aggregate.ids_for(s, not_member_of)
    if http.want(req, "1.31" if for_candidates else "1.14"):
        tree = http.query(req, "in_tree")
        if tree is not None:
            if not _is_uuid(tree):
                raise bad(f"Invalid uuid value: {tree}")
            try:
                rp = await resource_provider.get(s, canonical_uuid(tree))
                f.in_tree_root = rp.root_provider_id
            except exc.NotFound:
                if for_candidates:
                    raise bad(f"Invalid query string parameters: No such resource provider "
                              f"{tree}.") from None
                f.in_tree_root = -1
    if for_candidates and http.want(req, "1.35"):
        text = http.query(req, "root_required")
        if text is not None:
            required, forbidden = parse_traits([text], True, False)
            names = {n for a in required for n in a} | set(forbidden)
            ids = await trait_ids(s, vocab, names)
            f.root_required = [[ids[n] for n in alts] for alts in required]
            f.root_forbidden = [ids[n] for n in forbidden]
    return f


def _is_uuid(text: str) -> bool:
    try:
        canonical_uuid(text)
        return True
    except ValueError:
        return False
