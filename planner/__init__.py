"""Capacity planner for an active-active two-site hospital platform.

Build, solve and write-back are separate steps: :mod:`planner.sizing.envelope` reduces load
profiles to a design envelope, :mod:`planner.sizing.model` builds and solves the sizing MILP,
:mod:`planner.sizing.verify` replays every timestep against the chosen fleet independently,
and :mod:`planner.outputs.plan` writes the plan (the lock file the Pulumi programs read).
"""

from __future__ import annotations

__version__ = "0.1.0"
