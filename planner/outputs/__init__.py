"""Outputs: the plan lock file, plan diffs and the procurement report."""
