"""The chosen hardware per site: integer counts by SKU (the solver's write-back)."""

from __future__ import annotations

from dataclasses import dataclass, field


def survivors(counts: dict[str, int], lost: dict[str, int]) -> dict[str, int]:
    """``counts`` less ``lost`` per SKU, SKUs with none left dropped."""
    return {k: n - lost.get(k, 0) for k, n in counts.items() if n - lost.get(k, 0) > 0}


@dataclass(frozen=True)
class SiteFleet:
    site: str
    servers: dict[str, int] = field(default_factory=dict)
    drives: dict[str, int] = field(default_factory=dict)
    batteries: dict[str, int] = field(default_factory=dict)  # modules per SKU
    ups: dict[str, int] = field(default_factory=dict)
    strings: int = 0  # parallel battery strings
    cooling: tuple[str, ...] = ()  # cooling options put on the UPS

    def server_count(self) -> int:
        return sum(self.servers.values())

    def drive_count(self) -> int:
        return sum(self.drives.values())

    def without_zeros(self) -> SiteFleet:
        return SiteFleet(
            self.site,
            {k: v for k, v in sorted(self.servers.items()) if v},
            {k: v for k, v in sorted(self.drives.items()) if v},
            {k: v for k, v in sorted(self.batteries.items()) if v},
            {k: v for k, v in sorted(self.ups.items()) if v},
            self.strings,
            self.cooling,
        )
