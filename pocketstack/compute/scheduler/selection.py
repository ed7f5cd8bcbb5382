"""Choosing hosts for one request without filtering every host every time.

The host view (host_state.py) is in memory and kept current by events, so
nothing is read per request. Selection then works as kube-scheduler does
with its percentage of nodes to score, in three steps:

1. Narrow by index: a forced host is looked up by name; a requested
   availability zone takes the zone's hosts from the view's zone index
   (the other hosts are counted as removed by `availability_zone`).
2. Filter until enough: walk the hosts from where the previous request
   stopped (a rotating start spreads concurrent requests and gives every
   host its turn), run the filters that apply to this request (a filter may
   say it does not, with `active(spec)`: no server group, no hints, no
   image architecture...), and stop once `enough` hosts have passed
   (`scheduler_hosts_to_weigh`, 100 by default; 0 means all). A host costs
   a few microseconds; a request over 10,000 mostly empty hosts looks at
   about `enough` of them, not 10,000.
3. Weigh only those that passed, best first.

A miss is never a sampling artefact: when fewer than `enough` hosts pass,
the walk has gone over every host, so "No valid host" counts what each
filter removed over all of them; when every sampled host's claim is refused
in placement, the caller asks again excluding them and the walk continues
over the rest. The price of sampling is that the best host of the sample
is taken, not the best of all; weighers then spread (or pack) within it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from itertools import chain

from pocketstack.compute.scheduler.filters import Filter
from pocketstack.compute.scheduler.host_state import HostState, HostStates
from pocketstack.compute.scheduler.messages import RequestSpec
from pocketstack.compute.scheduler.weighers import Weigher, rank


class NoValidHost(Exception):
    pass


class Selector:
    def __init__(self, states: HostStates, filters: list[Filter],
                 weighers: list[tuple[Weigher, float]], enough: int = 100):
        self.states, self.filters, self.weighers = states, filters, weighers
        self.enough = enough
        self._start = 0  # where the next walk begins

    def select(self, spec: RequestSpec, exclude: Collection[str] = ()) -> list[HostState]:
        """Hosts that pass every filter, best first (at most `enough` of them, fewer
        only when fewer pass at all); NoValidHost says which filter removed how many."""
        pool, removed, examples = self._narrow(spec)
        active = [f for f in self.filters if _applies(f, spec) and f.name not in removed]
        passed = self._walk(spec, pool, active, exclude, removed, examples)
        if not passed:
            order = {f.name: i for i, f in enumerate(self.filters)}
            ranked = Counter({n: removed[n] for n in sorted(removed, key=lambda n: order.get(
                n, -1))})
            raise NoValidHost(_explain(len(self.states.hosts), ranked, examples, len(exclude)))
        return [h for _, h in rank(spec, passed, self.weighers)]

    def _narrow(self, spec: RequestSpec) -> tuple[list[HostState], Counter[str], dict[str, str]]:
        removed: Counter[str] = Counter()
        examples: dict[str, str] = {}
        if spec.force_host:
            host = self.states.hosts.get(spec.force_host)
            if host is None:
                removed["force_host"] = len(self.states.hosts)
                examples["force_host"] = f"only {spec.force_host} was asked for"
            return ([host] if host else []), removed, examples
        zone = spec.availability_zone
        if zone and any(f.name == "availability_zone" for f in self.filters):
            pool = self.states.in_zone(zone)
            outside = len(self.states.hosts) - len(pool)
            if outside:
                removed["availability_zone"] = outside
                examples["availability_zone"] = f"{outside} host(s) are not in zone {zone}"
            return pool, removed, examples
        return self.states.order, removed, examples

    def _walk(self, spec: RequestSpec, pool: list[HostState], active: list[Filter],
              exclude: Collection[str], removed: Counter[str],
              examples: dict[str, str]) -> list[HostState]:
        n = len(pool)
        start = self._start % n if n else 0
        enough = self.enough or n
        passed: list[HostState] = []
        seen = 0
        for i in chain(range(start, n), range(start)):
            seen += 1
            host = pool[i]
            if host.host in exclude:
                continue
            for flt in active:
                verdict = flt.check(spec, host)
                if not verdict.passed:
                    removed[flt.name] += 1
                    examples.setdefault(flt.name, f"{host.host}: {verdict.reason}")
                    break
            else:
                passed.append(host)
                if len(passed) >= enough:
                    break
        self._start = start + seen
        return passed


def _applies(flt: Filter, spec: RequestSpec) -> bool:
    active = getattr(flt, "active", None)
    return active is None or active(spec)


def _explain(total: int, removed: Counter[str], examples: dict[str, str],
             refused: int = 0) -> str:
    if total == 0:
        return "There are no compute hosts."
    parts = [f"{name} removed {n} (e.g. {examples[name]})" for name, n in removed.items()]
    if refused:
        parts.append(f"placement refused the claim on {refused}")
    return f"Of {total} host(s), filter " + "; ".join(parts) + "."
