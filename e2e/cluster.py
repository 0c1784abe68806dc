"""Real Kubernetes control planes on loopback, one per location (witness and both sites).

Each has its own etcd, kube-apiserver (the default admission chain: ResourceQuota,
PodSecurity, Priority, DefaultTolerationSeconds, ... plus NodeRestriction),
kube-controller-manager and kube-scheduler, and KWOK playing the kubelet of every node.
One CA and one admin certificate per cluster serve every component, as kwokctl does.
Nothing listens beyond 127.0.0.1; every port is picked free at start.

What the real platform brings from outside gets a stand-in, each a KWOK stage (a rule the
real KWOK controller applies to real API objects), see :mod:`e2e.stand_ins`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOOLS_SCRIPT = ROOT / "e2e" / "tools" / "build.sh"
SERVICE_CIDR = "10.96.0.0/16"
#: Pod addresses KWOK hands out (a /16: a site runs several hundred pods).
POD_CIDR = "10.244.0.0/16"
FAKE_NODE = "kwok.x-k8s.io/node"
#: The label KWOK selects the nodes it plays the kubelet of by (a server-side selector, so
#: removing it from a node stops its heartbeat at once: the server is dead).
KUBELET_LABEL = "hospital-platform/kubelet"


class ClusterError(RuntimeError):
    """A control-plane component did not start or a command against it failed."""


@dataclass(frozen=True)
class Tools:
    """Paths of the built tools (``e2e/tools/build.sh --env``)."""

    pulumi: Path
    provider: Path
    provider_version: str
    kube_bin: Path
    kwok: Path
    kwok_stages: Path
    etcd: Path

    @property
    def kubectl(self) -> Path:
        return self.kube_bin / "kubectl"


def read_tools() -> Tools:
    """The tools' paths; fails when ``make e2e-tools`` has not built them."""
    out = subprocess.run(
        ["bash", str(TOOLS_SCRIPT), "--env"], check=True, capture_output=True, text=True
    ).stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    tools = Tools(
        pulumi=Path(env["PULUMI"]),
        provider=Path(env["PULUMI_RESOURCE_KUBERNETES"]),
        provider_version=env["PULUMI_KUBERNETES_VERSION"],
        kube_bin=Path(env["KUBE_BIN"]),
        kwok=Path(env["KWOK"]),
        kwok_stages=Path(env["KWOK_STAGES"]),
        etcd=Path(env["ETCD"]),
    )
    for path in (tools.pulumi, tools.provider, tools.kubectl, tools.kwok, tools.etcd):
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ClusterError(f"{path}: not built; run `make e2e-tools`")
    return tools


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path, name: str) -> None:
    """A CA, the apiserver's serving certificate, the admin client certificate
    (system:masters) and the service-account signing key, all EC P-256, valid two days."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", f"/CN={name}-ca", cwd=folder)  # fmt: skip
    sans = (
        "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,"
        "DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    )
    for base, subject, ext in (
        ("apiserver", f"/CN={name}-apiserver", sans),
        ("admin", "/O=system:masters/CN=kubernetes-admin", "extendedKeyUsage=clientAuth"),
    ):
        _openssl("req", *ec, "-keyout", f"{base}.key", "-out", f"{base}.csr", "-subj", subject,
                 cwd=folder)  # fmt: skip
        (folder / f"{base}.ext").write_text(ext + "\n")
        _openssl("x509", "-req", "-in", f"{base}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{base}.crt", "-days", "2",
                 "-extfile", f"{base}.ext", cwd=folder)  # fmt: skip
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key", cwd=folder)
    _openssl("ec", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=folder)


def kubeconfig_text(folder: Path, context: str, port: int) -> str:
    """An admin kubeconfig with the certificates embedded, its one context named
    ``context`` (the stack config's context for the location)."""
    import base64

    def b64(name: str) -> str:
        return base64.b64encode((folder / name).read_bytes()).decode()

    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": context,
                "cluster": {
                    "server": f"https://127.0.0.1:{port}",
                    "certificate-authority-data": b64("ca.crt"),
                },
            }
        ],
        "users": [
            {
                "name": f"{context}-admin",
                "user": {
                    "client-certificate-data": b64("admin.crt"),
                    "client-key-data": b64("admin.key"),
                },
            }
        ],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": f"{context}-admin"}}
        ],
        "current-context": context,
    }
    return yaml.safe_dump(doc, sort_keys=False)


@dataclass
class ControlPlane:
    """One location's control plane: etcd, apiserver, controller-manager, scheduler, KWOK."""

    name: str
    context: str
    folder: Path
    tools: Tools
    stages: list[dict[str, Any]]
    etcd_port: int = 0
    api_port: int = 0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def kubeconfig(self) -> Path:
        return self.folder / "kubeconfig"

    def _spawn(self, component: str, argv: list[str]) -> None:
        log = (self.folder / "logs" / f"{component}.log").open("ab")
        self._logs.append(log)
        self.processes[component] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self, timeout_s: float = 120.0) -> None:
        """Start every component (fresh ports, the same data folder) and wait until the
        apiserver is ready and the default namespace and service account exist."""
        started = time.monotonic()
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        if not (self.folder / "pki" / "ca.crt").is_file():
            make_certificates(self.folder / "pki", self.name)
        pki = self.folder / "pki"
        if not self.api_port:
            self.etcd_port, self.api_port = free_port(), free_port()
        peer = free_port()
        self.kubeconfig.write_text(kubeconfig_text(pki, self.context, self.api_port))
        bin_ = self.tools.kube_bin
        self._spawn(
            "etcd",
            [
                str(self.tools.etcd),
                f"--name={self.name}",
                f"--data-dir={self.folder / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster={self.name}=http://127.0.0.1:{peer}",
                "--quota-backend-bytes=4294967296",
                "--unsafe-no-fsync",
            ],
        )
        self._spawn(
            "kube-apiserver",
            [
                str(bin_ / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.api_port}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                # the default chain (ResourceQuota, PodSecurity, Priority,
                # DefaultTolerationSeconds, ...) stays on; NodeRestriction as kubeadm adds it
                "--enable-admission-plugins=NodeRestriction",
                "--profiling=false",
            ],
        )
        self._wait(lambda: self._ready("/readyz"), timeout_s, "kube-apiserver /readyz")
        kubeconfig = str(self.kubeconfig)
        self._spawn(
            "kube-controller-manager",
            [
                str(bin_ / "kube-controller-manager"),
                f"--kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--secure-port=0",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--use-service-account-credentials=false",
                # a server stops answering: NotReady after 20 s (the default is 40-50 s)
                "--node-monitor-period=2s",
                "--node-monitor-grace-period=20s",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                str(bin_ / "kube-scheduler"),
                f"--kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--secure-port=0",
            ],
        )
        stages = self.folder / "kwok-stages.yaml"
        stages.write_text(yaml.safe_dump_all(self.stages, sort_keys=False))
        config = self.folder / "kwok.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
                    "kind": "KwokConfiguration",
                    "options": {
                        "manageAllNodes": False,
                        "manageNodesWithLabelSelector": f"{KUBELET_LABEL}=kwok",
                        "nodeLeaseDurationSeconds": 40,
                        "nodeLeaseParallelism": 4,
                        "nodePlayStageParallelism": 4,
                        "podPlayStageParallelism": 8,
                        "podsOnNodeSyncParallelism": 4,
                        "cidr": POD_CIDR,
                        "enableCRDs": [],
                    },
                }
            )
        )
        argv = [
            str(self.tools.kwok),
            f"--kubeconfig={kubeconfig}",
            f"--config={config}",
            f"--server-address=127.0.0.1:{free_port()}",
        ]
        for stage_file in sorted(self.tools.kwok_stages.glob("*.yaml")):
            argv.append(f"--config={stage_file}")
        argv.append(f"--config={stages}")
        self._spawn("kwok", argv)
        self._wait(
            lambda: self.kubectl_ok("get", "serviceaccount", "default", "-n", "default"),
            timeout_s,
            "the default service account (controller-manager)",
        )
        self.timings["start_s"] = time.monotonic() - started

    def _ready(self, path: str) -> bool:
        return self.kubectl_ok("get", "--raw", path)

    def _wait(self, check: Any, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for component, process in self.processes.items():
                if process.poll() is not None:
                    raise ClusterError(
                        f"{self.name}: {component} exited ({process.returncode}); see "
                        f"{self.folder / 'logs' / (component + '.log')}"
                    )
            if check():
                return
            time.sleep(0.5)
        raise ClusterError(f"{self.name}: {what} not ready after {timeout_s:.0f} s")

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        """Run kubectl against this cluster; its stdout."""
        result = subprocess.run(
            [str(self.tools.kubectl), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise ClusterError(f"{self.name}: kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def kubectl_ok(self, *args: str) -> bool:
        try:
            return (
                subprocess.run(
                    [str(self.tools.kubectl), f"--kubeconfig={self.kubeconfig}", *args],
                    capture_output=True,
                    timeout=10,
                ).returncode
                == 0
            )
        except subprocess.TimeoutExpired:
            return False

    def apply(self, objects: Sequence[Mapping[str, Any]]) -> None:
        self.kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump_all(objects))

    def stop(self, components: tuple[str, ...] | None = None) -> None:
        """Stop components (all by default), newest first; the data folder stays."""
        names = list(self.processes) if components is None else list(components)
        for component in reversed(names):
            process = self.processes.pop(component, None)
            if process is None:
                continue
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        if components is None:
            for log in self._logs:
                log.close()
            self._logs.clear()

    @property
    def running(self) -> bool:
        return bool(self.processes) and all(p.poll() is None for p in self.processes.values())
