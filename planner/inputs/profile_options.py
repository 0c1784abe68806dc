"""How a real profile export is read (gaps, jitter, extra columns). No heavy imports, so
the command line can offer these options without loading pandas."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProfileOptions:
    """How to read a real export.

    ``fill_gaps_s``: fill gaps (missing samples or empty cells) up to this long, in
    seconds, by ``fill_method`` ("hold" the last value, or "linear" interpolation);
    0 refuses any gap. A gap at the start or end of a series is never filled.
    ``jitter``: timestamps within this fraction of a step of the grid are snapped to it.
    ``strict``: extra columns are an error instead of being ignored with a note.
    """

    fill_gaps_s: float = 0.0
    fill_method: str = "hold"
    jitter: float = 0.1
    strict: bool = False

    def describe(self) -> dict[str, object]:
        return {
            "fill_gaps_s": self.fill_gaps_s,
            "fill_method": self.fill_method,
            "jitter": self.jitter,
        }


FILL_METHODS = ("hold", "linear")
