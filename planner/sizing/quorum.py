"""Database quorum across the two sites and the witness: who still has a majority?

A clustered (vertical, stateful, critical) database votes with each of its replicas in
both sites and with the witness's voters at the third location. With V_a and V_b replicas
in the sites and W witness voters, T = V_a + V_b + W votes and a majority needs
Q = floor(T / 2) + 1. The database keeps accepting writes only on a side that holds Q:

* normal: T;
* the link between the sites cut: the side that keeps the witness holds V_s + W, the
  other V_s (at most one side can hold a majority, so there is no split brain);
* a site lost: the survivor holds V_s + W;
* a site lost and one more database node: V_s - 1 + W;
* a site lost and one witness voter drained (its disruption budget allows one): V_s + W - 1.

The cases are stated in the plan and checked by the drill against the rendered stack.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuorumCase:
    """One situation: the votes left to the side that matters and whether they suffice."""

    case: str
    votes: int
    total: int
    needed: int

    @property
    def kept(self) -> bool:
        return self.votes >= self.needed

    def line(self) -> str:
        state = "quorum kept" if self.kept else "NO QUORUM: the database stops taking writes"
        return f"{self.case}: {self.votes} of {self.total} votes, {self.needed} needed, {state}"


def quorum_cases(votes: dict[str, int], witness: int, drained_witness: int = 1) -> list[QuorumCase]:
    """The cases of the module docstring for replicas ``votes`` per site (two sites) and
    ``witness`` voters, with up to ``drained_witness`` witness voters drained at once."""
    total = sum(votes.values()) + witness
    needed = total // 2 + 1
    sites = sorted(votes)
    out = [QuorumCase("normal", total, total, needed)]
    if witness > 0:
        for site in sites:
            out.append(
                QuorumCase(
                    f"sites cut apart, {site} with the witness",
                    votes[site] + witness,
                    total,
                    needed,
                )
            )
    for lost in sites:
        survivor = next(s for s in sites if s != lost)
        left = votes[survivor] + witness
        out.append(QuorumCase(f"{lost} lost", left, total, needed))
        out.append(
            QuorumCase(
                f"{lost} lost and one more {survivor} database node", left - 1, total, needed
            )
        )
        if witness > 0:
            drained = min(drained_witness, witness)
            out.append(
                QuorumCase(
                    f"{lost} lost and {drained} witness voter(s) drained",
                    left - drained,
                    total,
                    needed,
                )
            )
    return out
