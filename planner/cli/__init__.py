"""The `planner` command line. Each command lives in its own module and imports the heavy
libraries (numpy, scipy, pandas) only when it runs, so `planner --help` stays fast."""

from __future__ import annotations

import click

from planner import __version__
from planner.cli._shell import quiet_warnings
from planner.cli.diff import diff
from planner.cli.drill import drill
from planner.cli.example import example
from planner.cli.preview import preview
from planner.cli.profile import profile
from planner.cli.render import render
from planner.cli.report import report
from planner.cli.simulate import simulate
from planner.cli.size import size
from planner.cli.sweep import sweep
from planner.cli.tender import tender


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="planner")
def main() -> None:
    """Capacity planner for the active-active two-site hospital platform."""
    quiet_warnings()


main.add_command(size)
main.add_command(simulate)
main.add_command(example)
main.add_command(render)
main.add_command(report)
main.add_command(diff)
main.add_command(drill)
main.add_command(preview)
main.add_command(profile)
main.add_command(tender)
main.add_command(sweep)
