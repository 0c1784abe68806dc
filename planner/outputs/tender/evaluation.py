"""The offers' evaluation as a table (the terminal) and a report with a section per offer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LotResult:
    lot: int
    offered: bool  # False: the offer left this lot empty
    failures: tuple[str, ...]  # each failed requirement with its shortfall
    tco: float
    parts: dict[str, float]  # the TCO's terms

    @property
    def compliant(self) -> bool:
        return self.offered and not self.failures


@dataclass(frozen=True)
class BidResult:
    name: str
    source: str
    lots: tuple[LotResult, ...]
    utilisation: dict[str, float]  # mean CPU utilisation per site, for the energy


def ranking(results: list[BidResult], lot: int) -> list[tuple[int | None, BidResult]]:
    """Compliant offers of ``lot`` by TCO (rank 1 first), then the others (rank None) by
    name; offers that leave the lot empty are left out."""
    of = [r for r in results if r.lots[lot - 1].offered]
    good = sorted(
        (r for r in of if r.lots[lot - 1].compliant), key=lambda r: (r.lots[lot - 1].tco, r.name)
    )
    bad = sorted((r for r in of if not r.lots[lot - 1].compliant), key=lambda r: r.name)
    return [(i + 1, r) for i, r in enumerate(good)] + [(None, r) for r in bad]


LOTS = {1: "Servers and flash storage", 2: "UPS and batteries"}


def evaluation_table(results: list[BidResult], currency: str) -> list[str]:
    """Per lot: rank, offer, TCO and, for an offer that fails, its first failure."""
    lines = []
    for lot, title in LOTS.items():
        ranked = ranking(results, lot)
        lines.append(f"Lot {lot}: {title}")
        if not ranked:
            lines.append("  no offer for this lot")
            continue
        width = max(len(r.name) for _, r in ranked)
        for rank, r in ranked:
            res = r.lots[lot - 1]
            place = f"{rank:>2}" if rank is not None else " -"
            verdict = (
                f"TCO {res.tco:>14,.0f} {currency}"
                if res.compliant
                else f"not compliant ({len(res.failures)}): {res.failures[0]}"
            )
            lines.append(f"  {place}  {r.name:<{width}}  {verdict}")
    return lines


def render_evaluation(results: list[BidResult], currency: str, plan_digest: str) -> str:
    lines = [
        "# Evaluation of the offers",
        "",
        f"Against plan {plan_digest.split(':')[-1][:12]}: each offer's configuration through "
        "the planner's own verifier (every timestep of the profile, every loss of servers, "
        "pods placed pod by pod, the power chain at the design load with a string lost), then "
        "the tender's evaluation model. A lot an offer leaves empty is not ranked in it.",
        "",
    ]
    for lot, title in LOTS.items():
        lines += [f"## Lot {lot}: {title}", "", f"| Rank | Offer | Compliant | TCO ({currency}) |",
                  "|---:|---|---|---:|"]  # fmt: skip
        for rank, r in ranking(results, lot):
            res = r.lots[lot - 1]
            lines.append(
                f"| {rank if rank is not None else '-'} | {r.name} | "
                f"{'yes' if res.compliant else 'no'} | {res.tco:,.0f} |"
            )
        lines.append("")
    for r in sorted(results, key=lambda x: x.name):
        lines += [f"## Offer: {r.name}", "", f"File: `{r.source}`.", ""]
        for res in r.lots:
            head = f"### Lot {res.lot}: {LOTS[res.lot]}"
            if not res.offered:
                lines += [head, "", "Not offered.", ""]
                continue
            terms = ", ".join(f"{k} {v:,.0f}" for k, v in res.parts.items())
            lines += [head, "", f"TCO {res.tco:,.0f} {currency} ({terms})."]
            if res.lot == 1:
                util = ", ".join(f"{s} {100 * u:.1f} %" for s, u in r.utilisation.items())
                lines.append(f"Mean CPU utilisation on the offered servers: {util}.")
            lines.append("")
            if res.failures:
                lines += ["Failed requirements:", "", *[f"- {f}" for f in res.failures], ""]
            else:
                lines += ["Meets every requirement.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
