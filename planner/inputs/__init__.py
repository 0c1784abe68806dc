"""Reading and validating inputs: load profiles, planning spec, hardware catalogue, YAML,
units. No domain models.
"""
