"""deploy/kubernetes, checked without a cluster: every manifest against the Kubernetes API
schemas kubernetes-validate ships (strict: no field the API does not know), then what the
schemas cannot say: probes, shutdown, the image's user, resources, and that the pieces
name each other."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from gateway.settings import Settings
from tests.test_readme import environment_names

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
# The oldest and the newest Kubernetes whose schemas the pinned kubernetes-validate
# ships: an API version removed later or not there yet fails one of them.
KUBERNETES_VERSIONS = ("1.28.0", "1.37.0")

# Measured (README.md, "Deploying"): one worker's peak RSS under wrk with 300 contacts
# mirrored (bench/replicas.py), and the most RSS one mirrored contact added to a worker
# with 20,000 mirrored, the ConfigMap's bound (bench/budget.py --memory 20000).
WORKER_PEAK_MIB = 96
BYTES_PER_MIRRORED_CONTACT = 26_500


def kustomization() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    return loaded


def documents() -> list[dict[str, Any]]:
    return [
        document
        for name in kustomization()["resources"]
        for document in yaml.safe_load_all((MANIFESTS / name).read_text())
        if document
    ]


def find(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def gateway() -> dict[str, Any]:
    return find("Deployment", "contacts-gateway")


def redis() -> dict[str, Any]:
    return find("Deployment", "contacts-gateway-redis")


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def config() -> dict[str, str]:
    data: dict[str, str] = find("ConfigMap", "contacts-gateway")["data"]
    return data


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) == {"matchLabels"}, "only matchLabels is read here"
    return all(labels.get(key) == value for key, value in selector["matchLabels"].items())


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+)(Ki|Mi|Gi|k|M|G|)$")
_MEMORY_UNITS = {"": 1, "k": 1000, "M": 1000**2, "G": 1000**3, "Ki": 1024, "Mi": 1024**2}
_MEMORY_UNITS["Gi"] = 1024**3


def cores(quantity: str) -> float:
    match = _CPU.match(str(quantity))
    assert match, quantity
    return float(match.group(1)) / (1000 if match.group(2) else 1)


def memory_bytes(quantity: str) -> int:
    match = _MEMORY.match(str(quantity))
    assert match, quantity
    return int(match.group(1)) * _MEMORY_UNITS[match.group(2)]


def test_the_kustomization_lists_every_manifest() -> None:
    listed = kustomization()["resources"]
    on_disk = sorted(p.name for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_for_the_kubernetes_api(version: str) -> None:
    kinds = set()
    for document in documents():
        # raises on a schema violation, and on a kind or API version it has no schema for
        kubernetes_validate.validate(document, version, strict=True)
        kinds.add(document["kind"])
    assert kinds == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }


def test_the_validation_refuses_a_field_the_api_does_not_know() -> None:
    # given the Deployment with a probe misspelt
    deployment = gateway()
    container(deployment)["readinesProbe"] = container(deployment).pop("readinessProbe")
    # then
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_the_probes_ask_the_gateway_on_its_port() -> None:
    spec = container(gateway())
    command = spec["command"]
    assert command[:2] == ["gateway", "serve"]
    port = int(command[command.index("--port") + 1])
    # every address of the pod, where the kubelet and the Service reach it
    assert command[command.index("--host") + 1] == "0.0.0.0"  # noqa: S104
    assert spec["ports"] == [{"name": "http", "containerPort": port}]
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert spec["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert spec["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # a slow answer under load is not a dead process
    liveness = spec["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 30


def test_the_grace_period_covers_the_pre_stop_sleep_and_the_graceful_shutdown() -> None:
    # given the shutdown `gateway serve` does (gateway/cli.py): requests in flight get the
    # request deadline plus 5 s after SIGTERM, then the lifespan closes the clients
    deadline = Settings.model_validate({"request_deadline": config()["GATEWAY_REQUEST_DEADLINE"]})
    graceful = int(deadline.request_deadline) + 5
    pod = gateway()["spec"]["template"]["spec"]
    pre_stop = container(gateway())["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    sleep = int(pre_stop[1])
    # then SIGKILL comes after all of that, with a margin for closing the clients
    assert sleep >= 3, "the Service must have time to stop routing here"
    assert pod["terminationGracePeriodSeconds"] >= sleep + graceful + 3


def test_the_pods_run_as_the_images_user_on_a_read_only_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    uid = re.search(r"useradd .*--uid (\d+) gateway", dockerfile)
    assert uid is not None
    assert re.search(r"^USER gateway$", dockerfile, re.MULTILINE)
    pod = gateway()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == int(uid.group(1))
    assert pod["securityContext"]["runAsNonRoot"] is True
    spec = container(gateway())
    assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["securityContext"]["capabilities"]["drop"] == ["ALL"]
    # the one place it writes, TMPDIR, is a volume of its own
    tmpdir = next(env["value"] for env in spec["env"] if env["name"] == "TMPDIR")
    mounted = {mount["mountPath"]: mount["name"] for mount in spec["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounted[tmpdir]]


def test_the_settings_come_from_the_config_map_and_no_sandbox_is_served() -> None:
    spec = container(gateway())
    assert {"configMapRef": {"name": "contacts-gateway"}} in spec["envFrom"]
    # every name is one the gateway reads, and every value one it accepts
    data = config()
    assert set(data) <= set(environment_names())
    settings = Settings.model_validate({name.lower(): value for name, value in data.items()})
    assert not settings.uses_sandbox
    # one worker per pod: unset, the gateway would start one per CPU of the node
    assert settings.workers == 1
    assert cores(spec["resources"]["limits"]["cpu"]) >= settings.workers


def test_nothing_secret_is_in_the_config_map() -> None:
    for name, value in config().items():
        assert not re.search(r"TOKEN|SECRET|PASSWORD", name), name
        assert urlsplit(value).password is None, name


def test_requests_are_within_limits_and_the_memory_holds_the_mirror() -> None:
    for deployment in (gateway(), redis()):
        resources = container(deployment)["resources"]
        requests, limits = resources["requests"], resources["limits"]
        assert cores(requests["cpu"]) <= cores(limits["cpu"])
        assert memory_bytes(requests["memory"]) <= memory_bytes(limits["memory"])
    settings = Settings.model_validate({name.lower(): v for name, v in config().items()})
    needed = (
        WORKER_PEAK_MIB * 1024**2
        + settings.mirror_max_contacts * BYTES_PER_MIRRORED_CONTACT
        + settings.monite_reuse_bytes
        + settings.apq_cache_bytes
    )
    limit = memory_bytes(container(gateway())["resources"]["limits"]["memory"])
    assert needed <= limit
    # and not a great deal more than that: the figure is what the request is sized from
    assert limit <= 1.5 * needed


def test_the_autoscaler_scales_the_deployment_on_cpu() -> None:
    hpa = find("HorizontalPodAutoscaler", "contacts-gateway")["spec"]
    deployment = gateway()
    assert hpa["scaleTargetRef"] == {
        "apiVersion": deployment["apiVersion"],
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert [metric["resource"]["name"] for metric in hpa["metrics"]] == ["cpu"]
    assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    # utilization is of the request: the pods must ask for CPU
    assert cores(container(deployment)["resources"]["requests"]["cpu"]) > 0
    # the autoscaler owns the count
    assert "replicas" not in deployment["spec"]
    # while Redis is away each replica keeps 1/GATEWAY_REPLICAS of the budget: never more
    # than the budget in all, however many replicas the autoscaler runs
    assert int(config()["GATEWAY_REPLICAS"]) >= hpa["maxReplicas"]


def test_the_disruption_budget_keeps_one_pod_and_lets_drains_through() -> None:
    pdb = find("PodDisruptionBudget", "contacts-gateway")["spec"]
    hpa = find("HorizontalPodAutoscaler", "contacts-gateway")["spec"]
    assert selects(pdb["selector"], pod_labels(gateway()))
    assert not selects(pdb["selector"], pod_labels(redis()))
    assert "minAvailable" not in pdb
    assert 1 <= pdb["maxUnavailable"] < hpa["minReplicas"]


def test_the_services_select_their_own_pods() -> None:
    service = find("Service", "contacts-gateway")["spec"]
    assert selects({"matchLabels": service["selector"]}, pod_labels(gateway()))
    assert not selects({"matchLabels": service["selector"]}, pod_labels(redis()))
    port_names = {port["name"] for port in container(gateway())["ports"]}
    assert {port["targetPort"] for port in service["ports"]} <= port_names
    redis_service = find("Service", "contacts-gateway-redis")["spec"]
    assert selects({"matchLabels": redis_service["selector"]}, pod_labels(redis()))
    assert not selects({"matchLabels": redis_service["selector"]}, pod_labels(gateway()))


def test_the_gateway_reaches_redis_through_its_service_and_nothing_else_does() -> None:
    url = urlsplit(config()["GATEWAY_REDIS_URL"])
    assert url.scheme == "redis"
    service = find("Service", "contacts-gateway-redis")
    assert url.hostname == service["metadata"]["name"]
    assert url.port in {port["port"] for port in service["spec"]["ports"]}
    policy = find("NetworkPolicy", "contacts-gateway-redis")["spec"]
    assert selects(policy["podSelector"], pod_labels(redis()))
    assert policy["policyTypes"] == ["Ingress"]
    [rule] = policy["ingress"]
    [source] = rule["from"]
    assert selects(source["podSelector"], pod_labels(gateway()))
    assert not selects(source["podSelector"], {"app.kubernetes.io/name": "anything-else"})


def test_every_pod_is_locked_down_and_its_image_pinned() -> None:
    images = {image["name"]: image for image in kustomization()["images"]}
    for deployment in (gateway(), redis()):
        pod = deployment["spec"]["template"]["spec"]
        spec = container(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        # service links would put variables into the environment the gateway reads from
        assert pod["enableServiceLinks"] is False
        assert spec["securityContext"]["readOnlyRootFilesystem"] is True
        image = spec["image"]
        tag = images[image]["newTag"] if image in images else image.partition(":")[2]
        assert tag not in ("", "latest"), image


def test_redis_keeps_nothing_on_disk_and_never_evicts_keys_without_expiry() -> None:
    command = container(redis())["command"]
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert command[0] == "redis-server"
    assert options["--save"] == ""
    assert options["--appendonly"] == "no"
    # the salt of gateway.state.keys has no expiry; without it every hash changes
    assert options["--maxmemory-policy"].startswith("volatile-")
    # Redis reads mb as 1024 * 1024 bytes
    maxmemory = memory_bytes(options["--maxmemory"].replace("mb", "Mi"))
    assert maxmemory < memory_bytes(container(redis())["resources"]["limits"]["memory"])
