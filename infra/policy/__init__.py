"""The failover guardrails as a Pulumi policy pack; rules live in :mod:`infra.policy.rules`."""
