"""The queries file of `planner profile pull`: which PromQL gives which (site, workload,
metric) series.

```yaml
version: 1
sites:                      # planner site -> label values for the templates
  holstebro: {cluster: holstebro-prod}
workloads:                  # planner workload -> label values
  epr-web: {namespace: epr, pods: "epr-web-.*"}
metrics:                    # metric -> PromQL template, ${name} replaced by a label value
  cpu_cores: sum(rate(container_cpu_usage_seconds_total{cluster="${cluster}"}[5m]))
overrides:                  # optional: workload -> metric -> template (e.g. node-level I/O)
  epr-db: {read_iops: ...}
```

``${site}`` and ``${workload}`` are always defined. Templates use ``$`` (PromQL has no
use for it), so PromQL's own braces need no escaping. Every query must return one series:
aggregate with ``sum(...)`` so pods that come and go add up to one workload.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from planner.errors import InputError
from planner.inputs.units import METRICS
from planner.inputs.yaml_loader import Node, load_yaml_mapping


@dataclass(frozen=True)
class QuerySet:
    source: str
    sites: dict[str, dict[str, str]]
    workloads: dict[str, dict[str, str]]
    metrics: dict[str, str]
    overrides: dict[str, dict[str, str]]

    def query(self, site: str, workload: str, metric: str) -> str:
        template = self.overrides.get(workload, {}).get(metric, self.metrics[metric])
        labels = {
            **self.sites[site],
            **self.workloads[workload],
            "site": site,
            "workload": workload,
        }
        try:
            return Template(template).substitute(labels)
        except KeyError as exc:
            raise InputError(
                self.source,
                f"key 'metrics.{metric}'",
                f"the template uses ${{{exc.args[0]}}}, which neither site '{site}' nor "
                f"workload '{workload}' defines",
            ) from None
        except ValueError as exc:
            raise InputError(
                self.source, f"key 'metrics.{metric}'", f"bad template ({exc})"
            ) from None

    def series(self) -> list[tuple[str, str, str]]:
        """Every (site, workload, metric) to pull, in a stable order."""
        return [
            (site, workload, metric)
            for site in self.sites
            for workload in self.workloads
            for metric in self.metrics
        ]


def _labels(node: Node, key: str) -> dict[str, dict[str, str]]:
    section = node.child(key)
    out: dict[str, dict[str, str]] = {}
    for name in section.data:
        values = section.data[name] or {}
        if not isinstance(values, dict):
            raise section.error(str(name), "expected a mapping of label values")
        out[str(name)] = {}
        for label, value in values.items():
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise section.error(f"{name}.{label}", "expected a string")
            out[str(name)][str(label)] = str(value)
    if not out:
        raise node.error(key, "expected at least one entry")
    return out


def read_queries(path: Path) -> QuerySet:
    root = Node(str(path), load_yaml_mapping(path))
    root.reject_unknown({"version", "sites", "workloads", "metrics", "overrides"})
    if root.integer("version", minimum=1) != 1:
        raise root.error("version", "expected 1")
    metrics_node = root.child("metrics")
    metrics_node.reject_unknown(set(METRICS))
    metrics = {m: metrics_node.string(m) for m in METRICS if metrics_node.has(m)}
    missing = [m for m in METRICS if m not in metrics]
    if missing:
        raise root.error("metrics", f"missing queries for {', '.join(missing)}")
    workloads = _labels(root, "workloads")
    overrides: dict[str, dict[str, str]] = {}
    if root.has("overrides"):
        node = root.child("overrides")
        for workload in node.data:
            if workload not in workloads:
                raise node.error(str(workload), "unknown workload (not under 'workloads')")
            child = node.child(str(workload))
            child.reject_unknown(set(METRICS))
            overrides[str(workload)] = {m: child.string(m) for m in child.data}
    queries = QuerySet(str(path), _labels(root, "sites"), workloads, metrics, overrides)
    for site, workload, metric in queries.series():
        queries.query(site, workload, metric)  # every template resolves, or say which not
    return queries
