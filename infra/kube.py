"""A thin client of one real cluster through kubectl: JSON in, JSON out, no model.

The live drill (:mod:`infra.live`) uses it to act as the platform team would (scale,
drain, taint, delete, roll) and to read what the cluster itself says (pods, events).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Obj = dict[str, Any]


class KubeError(RuntimeError):
    """kubectl failed; the message names the command and what kubectl said."""


@dataclass(frozen=True)
class Kube:
    """kubectl against one kubeconfig (its current context)."""

    kubeconfig: Path
    kubectl: str = "kubectl"
    request_timeout_s: int = 20

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        argv = [
            self.kubectl,
            f"--kubeconfig={self.kubeconfig}",
            f"--request-timeout={self.request_timeout_s}s",
            *args,
        ]
        try:
            done = subprocess.run(
                argv, input=stdin, capture_output=True, text=True, timeout=900, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise KubeError(f"kubectl {' '.join(args)}: no answer in {exc.timeout} s") from None
        if check and done.returncode != 0:
            raise KubeError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout + (done.stderr if not check else "")

    def status(self, *args: str) -> tuple[int, str]:
        """(exit code, stdout and stderr) of a kubectl command that may fail."""
        argv = [self.kubectl, f"--kubeconfig={self.kubeconfig}", *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            return 124, f"kubectl {' '.join(args)}: no answer"
        return done.returncode, done.stdout + done.stderr

    def reachable(self) -> bool:
        try:
            self.run("get", "--raw", "/readyz")
        except KubeError:
            return False
        return True

    def items(self, kind: str, namespace: str | None = None, selector: str = "") -> list[Obj]:
        args = ["get", kind, "-o", "json"]
        args += ["-n", namespace] if namespace else ["--all-namespaces"]
        if selector:
            args += ["-l", selector]
        return list(json.loads(self.run(*args)).get("items") or [])

    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj:
        args = ["get", kind, name, "-o", "json"] + (["-n", namespace] if namespace else [])
        return dict(json.loads(self.run(*args)))


def wait_until(check: Callable[[], bool], timeout_s: float, every_s: float = 2.0) -> bool:
    """Poll ``check`` until it holds or ``timeout_s`` passes; whether it held."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every_s)


def ready(pod: Obj) -> bool:
    """Running, Ready and not being deleted."""
    status = pod.get("status") or {}
    if pod["metadata"].get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def workload_of(pod: Obj) -> str:
    return str((pod["metadata"].get("labels") or {}).get("app.kubernetes.io/name", ""))
