"""Failure simulations that read a plan: incident replay and availability Monte Carlo."""

#: The availability run's defaults, shared by `simulate availability` and `report` (kept
#: here, free of imports, so the CLI can show them without loading numpy).
YEARS = 1_000_000
SEED = 2025
