"""Job functions that chain the stages: size (load, reduce, solve, verify, write) and the
PR preview.
"""
