"""Sizing: design envelope, workload pods, the MILP, independent verification, fleet,
costs, server power.
"""
