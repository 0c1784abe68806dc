"""`python -m planner`: the same CLI as the `planner` console script."""

from planner.cli import main

main()
