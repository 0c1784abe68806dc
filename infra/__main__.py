"""Pulumi program: read stack config and the committed plan, build the sites, export."""

from __future__ import annotations

import hashlib

import pulumi

from infra.components import ClinicalSite, ClinicalSiteArgs, QuorumWitness, QuorumWitnessArgs
from infra.settings import PROJECT, SettingsError, check_site_stack, read_settings
from planner.outputs.plan import (
    planned_workloads,
    quorum_of,
    read_plan,
    witness_votes,
)

settings = read_settings()
check_site_stack(pulumi.get_stack(), settings)
if not any(settings.deploys(location) for location in settings.locations()):
    raise SettingsError(
        f"{PROJECT}:deploy: this stack deploys no location: it is an environment definition; "
        "`pulumi up` its site stacks one at a time (witness, one site, drill, the other)"
    )
plan = read_plan(settings.plan_file)
workloads = planned_workloads(plan, str(settings.plan_file))
digest = hashlib.sha256(settings.plan_file.read_bytes()).hexdigest()
kubeconfigs = pulumi.Config(PROJECT).get_secret_object("kubeconfigs")
cpu_target = round(100 * plan["assumptions"]["utilisation_ceiling"]["cpu"])


def kubeconfig(site: str) -> pulumi.Output[str] | None:
    if kubeconfigs is None:
        return None  # the ambient kubeconfig, with the site's context
    return pulumi.Output.secret(kubeconfigs.apply(lambda all_sites: all_sites[site]))


sites = {}
for here, there in zip(settings.sites, settings.sites[::-1], strict=True):
    if not settings.deploys(here.name):
        continue  # another stack of the environment deploys it: one site per `pulumi up`
    sites[here.name] = ClinicalSite(
        here.name,
        ClinicalSiteArgs(
            settings=settings,
            site=here,
            other_site=there,
            workloads=workloads,
            cpu_target_percent=cpu_target,
            kubeconfig=kubeconfig(here.name),
            quorum=quorum_of(plan),
        ),
    )
witness = (
    QuorumWitness(
        "witness",
        QuorumWitnessArgs(
            settings=settings,
            votes=witness_votes(plan),
            kubeconfig=kubeconfig(settings.witness.name),
            database_ports=tuple(settings.port(name) for name in quorum_of(plan)),
        ),
    )
    if settings.witness is not None and settings.deploys(settings.witness.name)
    else None
)

pulumi.export("endpoints", {name: site.endpoints for name, site in sites.items()})
pulumi.export("witness", witness.endpoint if witness is not None else None)
pulumi.export(
    "sizing",
    {
        "plan": str(settings.plan_file.name),
        "plan_sha256": digest,
        "tco": plan["costs"]["tco"],
        "currency": plan["assumptions"]["currency"],
        "sites": {
            s["name"]: {
                "servers": s["totals"]["servers"],
                "cores": s["totals"]["cores"],
                "memory_gib": s["totals"]["memory_gib"],
                "flash_raw_tb": s["totals"]["flash_raw_tb"],
                "battery_kwh": s["battery"].get("kwh_installed"),
            }
            for s in plan["sites"]
            if s["name"] in sites
        },
    },
)
