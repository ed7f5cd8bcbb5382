"""More free RAM weighs more (a positive multiplier spreads, negative stacks)."""


class RamWeigher:
    name = "ram"

    def weigh(self, spec, host) -> float:  # noqa: ANN001
        return host.free_ram_mb
