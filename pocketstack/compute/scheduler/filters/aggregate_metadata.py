"""Flavor extra specs scoped `aggregate_instance_extra_specs:KEY` (or unscoped)
must match the metadata of the host's aggregates."""

from pocketstack.compute.scheduler.filters.base import PASS, Verdict, fail

SCOPE = "aggregate_instance_extra_specs"


class AggregateMetadataFilter:
    name = "aggregate_metadata"

    def __init__(self, states):  # noqa: ANN001
        pass

    def active(self, spec) -> bool:  # noqa: ANN001
        return any(key.rpartition(":")[0] in ("", SCOPE) for key in spec.flavor.extra_specs)

    def check(self, spec, host) -> Verdict:  # noqa: ANN001
        metadata = None
        for key, wanted in spec.flavor.extra_specs.items():
            scope, _, name = key.rpartition(":")
            if scope not in ("", SCOPE):
                continue
            metadata = host.metadata() if metadata is None else metadata
            if wanted.strip() not in metadata.get(name, ()):
                return fail(f"aggregate metadata {name}={sorted(metadata.get(name, ()))} "
                            f"does not match {wanted}")
        return PASS
