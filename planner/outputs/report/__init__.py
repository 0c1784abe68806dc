"""Procurement report from a plan: HTML (self-contained), XLSX bill of materials, Markdown.

:mod:`planner.outputs.report.data` gathers the figures once; the writers only format them.
"""
