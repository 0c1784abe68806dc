"""The real Pulumi engine over the committed stacks: `preview`, `up`, `destroy`.

The CLI is the one ``make e2e-tools`` built, the resource provider is the built
pulumi-resource-kubernetes (installed into a private ``PULUMI_HOME`` from its file, never
downloaded), and the state lives in a file backend in the run's folder. The committed stack
files are copied into the run's folder first, so the local kubeconfigs set as secrets never
touch the repository.

The program is ``infra/__main__.py`` unchanged, run by the Python SDK's own language
runtime (Pulumi's Automation API, an inline program): the standalone
``pulumi-language-python`` host is a module without release tags, and the Go module proxy
serves no pseudo-version of it that can be named from a release. The policy pack
(``infra/policy``) runs inside the engine as an analyzer plugin started from an executable
that serves the pack with the project's Python.
"""

from __future__ import annotations

import os
import runpy
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pulumi import automation as auto

from e2e.cluster import ROOT, Tools

PROJECT = "hospital-platform"
PASSPHRASE = "e2e-only-passphrase"


def program_at(project: Path) -> Callable[[], None]:
    """``infra/__main__.py`` as the engine runs it, with the project folder as its root
    directory (what Pulumi's language host passes a program; the inline runtime passes
    none)."""

    def run() -> None:
        from pulumi.runtime import settings

        settings.SETTINGS.root_directory = str(project)
        runpy.run_module("infra.__main__", run_name="__main__")

    return run


@dataclass
class Engine:
    """A Pulumi workspace over a copy of the project's stack files."""

    tools: Tools
    folder: Path

    def __post_init__(self) -> None:
        self.project = self.folder / "project"
        self.home = self.folder / "pulumi-home"
        self.state = self.folder / "state"
        for path in (self.project, self.home, self.state):
            path.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "Pulumi.yaml", self.project / "Pulumi.yaml")
        shutil.copytree(ROOT / "stacks", self.project / "stacks", dirs_exist_ok=True)
        if not (self.project / "infra").exists():  # `main: infra/` must exist for the CLI
            (self.project / "infra").symlink_to(ROOT / "infra", target_is_directory=True)
        self.env = {
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "false",
        }
        self.cli(
            "plugin",
            "install",
            "resource",
            "kubernetes",
            self.tools.provider_version,
            "--file",
            str(self.tools.provider),
        )
        self.policy_pack = self._policy_analyzer()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The real CLI with this workspace's environment."""
        env = {**os.environ, **self.env}
        result = subprocess.run(
            [str(self.tools.pulumi), *args, "--non-interactive"],
            cwd=self.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)}: {result.stderr.strip()[-2000:]}")
        return result

    def _policy_analyzer(self) -> Path:
        """An executable that serves the policy pack (the engine starts it, passes its own
        address, reads the port it prints)."""
        folder = self.folder / "policy-pack"
        folder.mkdir(exist_ok=True)
        script = folder / "pulumi-analyzer-policy-hospital"
        script.write_text(
            f'#!/bin/sh\ncd "{ROOT}" && exec "{sys.executable}" -u -m infra.policy "$@"\n'
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return script

    def stack(self, name: str) -> auto.Stack:
        """Create or select ``name`` in this workspace."""
        return auto.create_or_select_stack(
            stack_name=name,
            project_name=PROJECT,
            program=program_at(self.project),
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(self.project),
                pulumi_home=str(self.home),
                env_vars=self.env,
                pulumi_command=auto.PulumiCommand(root=str(self.tools.pulumi.parent.parent)),
            ),
        )

    def set_kubeconfig(self, stack: auto.Stack, location: str, text: str) -> None:
        """The location's kubeconfig as the stack's secret (ciphertext in the copy)."""
        stack.set_config(f"kubeconfigs.{location}", auto.ConfigValue(text, secret=True), path=True)

    def stack_file(self, name: str) -> Path:
        return self.project / "stacks" / f"Pulumi.{name}.yaml"
