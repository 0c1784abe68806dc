"""Policy pack entry point, for `pulumi preview --policy-pack infra/policy`.

Never import this module in tests: constructing a PolicyPack starts its gRPC server and
blocks. Tests call the rules in :mod:`infra.policy.rules` directly.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from infra.policy.rules import all_policies

PolicyPack(
    name="hospital-failover-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=all_policies(),
)
