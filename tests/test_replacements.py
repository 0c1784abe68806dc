"""Which manifest changes force a replacement or delete what must not be deleted."""

from __future__ import annotations

import pytest

from planner.outputs.replacements import immutable_paths, kind_and_name, warnings_for


@pytest.mark.parametrize(
    ("kind", "paths", "forced"),
    [
        ("statefulset", ["spec.replicas", "spec.template.spec.containers[0].image"], []),
        (  # ignored by the program (ignoreChanges): the claims are expanded instead
            "statefulset",
            ["spec.volumeClaimTemplates[0].spec.resources.requests.storage", "spec.replicas"],
            [],
        ),
        ("statefulset", ["spec.serviceName"], ["spec.serviceName"]),
        ("statefulset", ["spec.updateStrategy.type", "metadata.labels.x"], []),
        ("deployment", ["spec.selector.matchLabels.app"], ["spec.selector.matchLabels.app"]),
        ("deployment", ["spec.replicas", "spec.template.metadata.labels.x"], []),
        ("storageclass", ["parameters.pool"], ["parameters.pool"]),
        ("storageclass", ["allowVolumeExpansion"], []),
        ("persistentvolumeclaim", ["spec.storageClassName"], ["spec.storageClassName"]),
        ("service", ["spec.clusterIP"], ["spec.clusterIP"]),
        ("service", ["spec.ports[0].port"], []),
        (
            "job",
            ["spec.template.spec.containers[0].image"],
            ["spec.template.spec.containers[0].image"],
        ),
    ],
)
def test_immutable_fields_per_kind(kind: str, paths: list[str], forced: list[str]) -> None:
    assert immutable_paths(kind, paths) == forced


def test_file_names_give_kind_and_name() -> None:
    assert kind_and_name("04-statefulset--epr--epr-db.yaml") == ("statefulset", "epr-db")
    assert kind_and_name("00-namespace--_cluster--epr.yaml") == ("namespace", "epr")


def test_warnings_name_replacements_deletions_and_guardrails() -> None:
    lines = warnings_for(
        "holstebro",
        {
            "04-statefulset--epr--epr-db.yaml": ["spec.serviceName"],
            "04-statefulset--epr--archive.yaml": [
                "spec.volumeClaimTemplates[0].spec.resources.requests.storage"
            ],
            "05-deployment--epr--web.yaml": ["spec.replicas"],
            "02-resourcequota--epr--plan-quota.yaml": ["spec.hard.requests.cpu"],
        },
        ["00-namespace--_cluster--epr.yaml", "05-deployment--epr--old.yaml"],
    )
    assert lines == [
        "holstebro: resourcequota `plan-quota` changed: it decides failover admission or drains",
        "holstebro: statefulset `archive`: volume template changed; Pulumi ignores it "
        "(immutable), so nothing is replaced: expand each existing claim `data-archive-<i>` "
        "to the new size (`kubectl patch pvc`, the storage class allows expansion) before the "
        "workload needs it",
        "holstebro: statefulset `epr-db` will be REPLACED (deleted, then created): immutable "
        "`spec.serviceName` changed (its volumes are kept only if retained: check "
        "`retainOnDelete`)",
        "holstebro: namespace `epr` will be DELETED from the program: it is protected, so "
        "`pulumi up` stops until someone unprotects it, and retainOnDelete leaves it in the "
        "cluster",
    ]
