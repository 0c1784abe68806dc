"""Pulumi programs for the active-active two-site hospital platform.

The program (``infra/__main__.py``) reads stack config and the committed plan (through
the planner's plan reader), declares one :class:`infra.components.ClinicalSite` per site
and a :class:`infra.components.QuorumWitness`, and exports endpoints and a sizing summary.
Pure helpers in :mod:`infra.specs` build every Kubernetes object from the plan.
"""
