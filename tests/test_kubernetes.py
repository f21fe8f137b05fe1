"""The Kubernetes base in deploy/kubernetes/, checked offline: every manifest against the API's schemas
for a pinned Kubernetes version, and what each pod runs, how it is probed, limited and locked down,
and that every setting it is given is one the service reads."""

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes release still supported upstream when the manifests were written; strict
# validation also refuses fields the schema does not know (a misspelt key is an error, not a no-op).
KUBERNETES_VERSION = "1.32.0"
# The API's schemas for that release in their strict form, as the kubernetes-json-schema project
# publishes them (Apache 2.0): one file per kind this base uses, and the definitions they refer to.
SCHEMAS = Path(__file__).resolve().parent / "kubernetes_schemas" / f"v{KUBERNETES_VERSION}-strict"


def validate(resource: dict[str, Any]) -> None:
    """jsonschema.ValidationError unless `resource` is valid for KUBERNETES_VERSION, strictly."""
    group = re.sub(
        r"^([^./]*)(?:\.[^/]*)?/", r"\1-", resource["apiVersion"]
    )  # networking.k8s.io/v1 → networking-v1
    schema = json.loads((SCHEMAS / f"{resource['kind'].lower()}-{group}.json").read_text())
    definitions = json.loads((SCHEMAS / "_definitions.json").read_text())
    registry: Registry[Any] = Resource.from_contents(definitions) @ (
        Resource.from_contents(schema) @ Registry()
    )
    jsonschema.Draft202012Validator(schema, registry=registry).validate(resource)


SETTINGS_VARIABLES = {f"INGRAIN_{name.upper()}" for name in Settings.model_fields}
API_PORT = Settings.model_fields["port"].default


def load_base() -> list[dict[str, Any]]:
    """The resources kustomize would emit for this base: each file it lists, every document in it."""
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    assert set(kustomization) == {"apiVersion", "kind", "resources"}, "a base of plain resources"
    resources: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        resources += [doc for doc in yaml.safe_load_all((BASE / name).read_text()) if doc]
    return resources


RESOURCES = load_base()


def named(kind: str, name: str) -> dict[str, Any]:
    [resource] = [r for r in RESOURCES if r["kind"] == kind and r["metadata"]["name"] == name]
    return resource


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for resource in RESOURCES:
        if resource["kind"] in ("Deployment", "Job"):
            yield resource["metadata"]["name"], resource["spec"]["template"]["spec"]


def container(workload: str) -> dict[str, Any]:
    kind = "Job" if workload.endswith("migrate") else "Deployment"
    [only] = named(kind, workload)["spec"]["template"]["spec"]["containers"]
    return only


def environment(workload: str) -> dict[str, str]:
    """What the container's environment holds: its ConfigMap and Secret, then its own `env`."""
    values: dict[str, str] = {}
    for source in container(workload).get("envFrom", []):
        if "configMapRef" in source:
            values.update(named("ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            values.update(named("Secret", source["secretRef"]["name"])["stringData"])
    values.update({e["name"]: e["value"] for e in container(workload).get("env", [])})
    return values


def test_every_file_in_the_base_is_listed_and_every_manifest_is_valid_for_kubernetes() -> None:
    listed = set(yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    for resource in RESOURCES:
        validate(resource)
    kinds = {(r["apiVersion"], r["kind"]) for r in RESOURCES}
    assert kinds >= {
        ("apps/v1", "Deployment"),
        ("batch/v1", "Job"),
        ("v1", "Service"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("policy/v1", "PodDisruptionBudget"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
    }


def test_a_broken_manifest_is_refused() -> None:
    """The validation above can fail: a misplaced field and a wrong type are both caught."""
    api = named("Deployment", "ingrain-api")
    misplaced = {**api, "spec": {**api["spec"], "replica": 2}}
    with pytest.raises(jsonschema.ValidationError):
        validate(misplaced)
    wrong_type = {**api, "spec": {**api["spec"], "replicas": "two"}}
    with pytest.raises(jsonschema.ValidationError):
        validate(wrong_type)


def test_the_api_the_worker_and_the_migration_run_the_three_commands() -> None:
    assert container("ingrain-api")["command"] == ["ingrain", "serve"]
    assert container("ingrain-worker")["command"] == ["ingrain", "worker"]
    assert container("ingrain-migrate")["command"] == ["ingrain", "migrate"]
    assert named("Job", "ingrain-migrate")["spec"]["template"]["spec"]["restartPolicy"] != "Always"
    images = {container(name)["image"] for name, _ in pod_specs()}
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert images == {f"ingrain:{version}"}


def test_every_container_is_non_root_read_only_probed_and_limited() -> None:
    for name, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["automountServiceAccountToken"] is False, name
        for each in spec["containers"]:
            security = each["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            for bound in ("requests", "limits"):
                assert set(each["resources"][bound]) == {"cpu", "memory"}, (name, bound)
            # What a read-only root leaves writable: /tmp, where `ingrain serve` keeps its processes'
            # metrics directory and Python its temporary files.
            mounts = {m["mountPath"]: m["name"] for m in each["volumeMounts"]}
            volumes = {v["name"]: v for v in spec["volumes"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], name
            if name != "ingrain-migrate":
                assert {"livenessProbe", "readinessProbe", "startupProbe"} <= set(each), name


def test_the_api_is_probed_on_healthz_and_readyz_and_the_worker_on_its_metrics_port() -> None:
    api = container("ingrain-api")
    ports = {p["name"]: p["containerPort"] for p in api["ports"]}
    assert ports["http"] == API_PORT == int(environment("ingrain-api")["INGRAIN_PORT"])
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    worker = container("ingrain-worker")
    metrics_port = int(environment("ingrain-worker")["INGRAIN_METRICS_PORT"])
    assert {p["name"]: p["containerPort"] for p in worker["ports"]} == {"metrics": metrics_port}
    assert ports["metrics"] == metrics_port
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert worker[probe]["httpGet"]["port"] == "metrics"
    assert environment("ingrain-worker")["INGRAIN_HOST"] == "0.0.0.0"


def test_pods_drain_before_they_are_killed() -> None:
    """uvicorn answers what it holds after SIGTERM, a worker finishes its jobs: both need the time."""
    api = named("Deployment", "ingrain-api")["spec"]["template"]["spec"]
    pause = int(api["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert api["terminationGracePeriodSeconds"] >= pause + 30
    worker = named("Deployment", "ingrain-worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] >= 60


def test_every_ingrain_variable_is_a_setting_and_pods_never_migrate_or_run_jobs() -> None:
    for name, _ in pod_specs():
        variables = {k for k in environment(name) if k.startswith("INGRAIN_")}
        assert variables <= SETTINGS_VARIABLES, variables - SETTINGS_VARIABLES
    config = named("ConfigMap", "ingrain")["data"]
    assert config["INGRAIN_MIGRATE_ON_START"] == "false"
    assert config["INGRAIN_JOBS_IN_PROCESS"] == "false"
    assert config["INGRAIN_DEMO_DATA"] == "false"
    assert config["INGRAIN_ENVIRONMENT"] == "production"
    secret = named("Secret", "ingrain")["stringData"]
    assert set(secret) == {"INGRAIN_DATABASE_URL", "INGRAIN_DATABASE_READ_URL", "INGRAIN_JWT_SECRET"}
    assert not {k for k in config if k in secret}, "a setting is configured once"
    key_path = Path(config["INGRAIN_SIGNING_KEY_PATH"])
    mounts = {m["name"]: m["mountPath"] for m in container("ingrain-api")["volumeMounts"]}
    api_pod = named("Deployment", "ingrain-api")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in api_pod["volumes"]}
    [key_volume] = [name for name, v in volumes.items() if "secret" in v]
    assert str(key_path.parent) == mounts[key_volume]
    key_secret = named("Secret", volumes[key_volume]["secret"]["secretName"])
    assert set(key_secret["stringData"]) == {key_path.name}


def test_the_committed_secret_is_refused_until_it_is_filled_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """The placeholders are not a default anyone could run with."""
    for key, value in environment("ingrain-api").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match="INGRAIN_JWT_SECRET"):
        Settings()
    monkeypatch.setenv("INGRAIN_JWT_SECRET", "a-deployment-secret-of-at-least-32-bytes!")
    settings = Settings()
    assert not settings.migrate_at_start and not settings.run_jobs_in_process
    assert not settings.load_demo_data


def test_the_service_selects_the_api_pods_and_the_autoscaler_scales_them() -> None:
    api = named("Deployment", "ingrain-api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    service = named("Service", "ingrain-api")
    assert service["spec"]["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    hpa = named("HorizontalPodAutoscaler", "ingrain-api")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ingrain-api"}
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    assert "replicas" not in api["spec"], "the autoscaler owns the API's replica count"
    for workload in ("ingrain-api", "ingrain-worker"):
        [budget] = [
            r["spec"]
            for r in RESOURCES
            if r["kind"] == "PodDisruptionBudget"
            and r["spec"]["selector"]["matchLabels"].items()
            <= named("Deployment", workload)["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert budget["maxUnavailable"] == 1


def test_network_policies_let_in_and_out_only_what_each_pod_needs() -> None:
    policies = {
        r["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]: r["spec"]
        for r in RESOURCES
        if r["kind"] == "NetworkPolicy"
    }
    assert set(policies) == {"api", "worker", "migrate"}

    def egress_ports(component: str) -> set[tuple[str, int]]:
        return {(p["protocol"], p["port"]) for rule in policies[component]["egress"] for p in rule["ports"]}

    def ingress_ports(component: str) -> set[str]:
        return {p["port"] for rule in policies[component].get("ingress", []) for p in rule["ports"]}

    for component, policy in policies.items():
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        assert {("TCP", 5432), ("UDP", 53), ("TCP", 53)} <= egress_ports(component)
    assert ingress_ports("api") == {"http", "metrics"}
    assert ingress_ports("worker") == {"metrics"}
    assert ingress_ports("migrate") == set()
    # Webhook deliveries from workers, JWKS fetches from the API; migrations only talk to Postgres.
    assert ("TCP", 443) in egress_ports("worker") and ("TCP", 443) in egress_ports("api")
    assert egress_ports("migrate") == {("TCP", 5432), ("UDP", 53), ("TCP", 53)}
