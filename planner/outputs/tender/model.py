"""The tender pack's data: requirements, quantities, lots, the pack, and the rounding
that keeps a requirement on the safe side of the plan's figure."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

AT_LEAST = ">="
AT_MOST = "<="

OR_EQUIVALENT = (
    "Where this tender names a product, a standard or a test method, it does so only to "
    "describe the performance required; every such reference is followed by 'or "
    "equivalent' (Directive 2014/24/EU, article 42). Tenderers may offer any product that "
    "meets the functional requirements and prove it with published results or test reports."
)

OUT_OF_SCOPE = (
    "network switches, firewalls, cabling and racks (the plan counts their power on the UPS "
    "but does not size them)",
    "software licences: operating systems, database, virtualisation and Kubernetes",
    "standby generators and the building's cooling plant",
    "installation works in the rooms, and removal and disposal of the old equipment",
    "migration of patient data from the old systems",
    "backup and archive storage kept apart from both sites",
)


#: What the pack does not produce and the contracting authority must add before
#: publishing (so that nothing is silently missing).
LEFT_TO_AUTHORITY = (
    "the European Single Procurement Document (ESPD) and the contract notice",
    "exclusion grounds and selection criteria (economic and financial standing, technical "
    "and professional ability, references)",
    "CPV codes of each lot",
    "the estimated contract value, and any limit on the number of lots per tenderer",
    "delivery, installation and acceptance terms: dates, places, acceptance tests and what "
    "failing them means",
    "the contract term, extension options and termination",
    "the price index for option prices, if indexed, and payment terms",
    "liability, penalties for late delivery or missed response times, and insurance",
    "conformity: CE marking and the Declarations of Conformity, RoHS (Directive 2011/65/EU)",
    "ecodesign requirements for servers and data storage products (Regulation (EU) "
    "2019/424) and the information they oblige the supplier to give",
    "the Battery Regulation (EU) 2023/1542: labelling, carbon footprint and due diligence "
    "as they apply to industrial batteries, and take-back of the old batteries",
    "a data processing agreement (GDPR article 28) for on-site support on systems holding "
    "patient data, and security vetting of support staff",
    "the weighting of any quality criteria beside cost, if the authority adds any",
)


@dataclass(frozen=True)
class TenderOptions:
    """Tender terms the plan does not decide: defaults are marked as assumptions."""

    spare_drive_share: float = 0.02  # ASSUMPTION: 2 % of drives, at least 2, per site
    min_spare_drives: int = 2
    spare_battery_modules: int = 1  # ASSUMPTION: one module per site
    response_hours: int = 4  # ASSUMPTION: 24x7 support, 4-hour on-site response
    keep_failed_drives: bool = True  # patient data: failed drives stay with the buyer


@dataclass(frozen=True)
class Requirement:
    item: str  # e.g. "Server type A"
    what: str
    bound: str  # AT_LEAST or AT_MOST
    value: float
    unit: str
    sources: tuple[str, ...]  # the plan and catalogue figures multiplied to get ``value``
    basis: str  # how the figure follows from the plan, in words
    verified_by: str = ""  # the standard or measurement that proves it

    def text(self) -> str:
        word = "at least" if self.bound == AT_LEAST else "at most"
        return f"{self.what}: {word} {self.value:,.10g} {self.unit}".rstrip()


@dataclass(frozen=True)
class Quantity:
    site: str
    item: str
    firm: int  # delivered at the start
    options: tuple[tuple[int, int], ...] = ()  # (year, quantity) the buyer may call off
    spares: int = 0
    spares_of: str = ""  # what the spares are ("drives", "battery modules")

    @property
    def total(self) -> int:
        return self.firm + sum(q for _, q in self.options)


@dataclass(frozen=True)
class Lot:
    number: int
    title: str
    requirements: tuple[Requirement, ...]
    conditions: tuple[str, ...]  # requirements in words (interfaces, chemistry, standards)
    quantities: tuple[Quantity, ...]
    references: tuple[str, ...]  # "reference configuration" lines: the only brand names


@dataclass(frozen=True)
class Tender:
    title: str
    plan_digest: str
    currency: str
    horizon_years: float
    lots: tuple[Lot, ...]
    support: tuple[str, ...]
    evaluation: dict[str, Any]
    out_of_scope: tuple[str, ...] = OUT_OF_SCOPE
    open_items: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = field(default=())
    left_to_authority: tuple[str, ...] = LEFT_TO_AUTHORITY
    #: per "site (scenario)", the pods its servers must place (CPU in the measured
    #: hardware's cores)
    pods: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def round_up(value: float) -> float:
    """``value`` rounded up to three significant digits (a minimum never drops below it)."""
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - 2)
    return float(round(math.ceil(value / step - 1e-9) * step, 10))


def round_down(value: float) -> float:
    """``value`` rounded down to three significant digits (a maximum never rises above it)."""
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - 2)
    return float(round(math.floor(value / step + 1e-9) * step, 10))
