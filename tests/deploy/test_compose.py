"""deploy/compose.yaml and deploy/haproxy.cfg, checked without a Docker engine: the
services, their ports, health checks and start order, that haproxy names every replica
and nothing else, and haproxy's own check of its configuration."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from gateway.settings import Settings
from tests.deploy.test_kubernetes import container, redis

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
HAPROXY_CONFIG = (DEPLOY / "haproxy.cfg").read_text()
SERVICES: dict[str, Any] = COMPOSE["services"]
REPLICAS = sorted(name for name in SERVICES if name.startswith("gateway-"))
_DEFAULTED = re.compile(r"^\$\{[A-Z_]+:-(.*)\}$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment as compose gives it when nothing is set outside."""
    return {
        name: (match.group(1) if (match := _DEFAULTED.match(value)) else value)
        for name, value in service["environment"].items()
    }


def port_of(command: list[str]) -> int:
    return int(command[command.index("--port") + 1])


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, duration
    return int(match.group(1))


def backend_servers() -> dict[str, str]:
    backend = HAPROXY_CONFIG.split("\nbackend replicas\n", 1)[1]
    return dict(re.findall(r"^\s+server (\S+) (\S+)", backend, re.MULTILINE))


def test_three_replicas_a_load_balancer_redis_and_the_sandbox() -> None:
    assert REPLICAS == ["gateway-1", "gateway-2", "gateway-3"]
    assert set(SERVICES) == {*REPLICAS, "lb", "redis", "sandbox"}


def test_every_replica_serves_one_worker_sharing_redis() -> None:
    for name in REPLICAS:
        service = SERVICES[name]
        assert service["command"][:2] == ["gateway", "serve"]
        env = environment(service)
        # every value one the gateway accepts
        settings = Settings.model_validate({key.lower(): value for key, value in env.items()})
        assert settings.workers == 1
        assert int(env["GATEWAY_REPLICAS"]) == len(REPLICAS)
        url = urlsplit(env["GATEWAY_REDIS_URL"])
        assert (url.scheme, url.hostname, url.port) == ("redis", "redis", 6379)
        # the sandbox service by default, not one embedded sandbox per replica
        assert not settings.uses_sandbox
        assert urlsplit(env["MONEYBIRD_BASE_URL"]).hostname == "sandbox"
        assert port_of(SERVICES["sandbox"]["command"]) == urlsplit(env["MONEYBIRD_BASE_URL"]).port
        # Moneybird's webhook pushes reach any replica through the balancer
        public = urlsplit(env["GATEWAY_PUBLIC_URL"])
        assert (public.hostname, public.port) == ("lb", 8000)
        assert service["depends_on"] == {
            "redis": {"condition": "service_healthy"},
            "sandbox": {"condition": "service_healthy"},
        }


def test_replicas_stop_as_the_gateway_does_on_a_read_only_root() -> None:
    for name in REPLICAS:
        service = SERVICES[name]
        assert service["read_only"] is True
        assert service["tmpfs"] == ["/tmp"]  # noqa: S108 - the container's TMPDIR, a tmpfs
        deadline = Settings.model_validate({}).request_deadline
        assert seconds(service["stop_grace_period"]) >= int(deadline) + 5


def test_every_service_but_the_balancer_has_a_health_check_on_its_own_port() -> None:
    for name in REPLICAS:
        check = " ".join(SERVICES[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port_of(SERVICES[name]['command'])}/readyz" in check
    sandbox_check = " ".join(SERVICES["sandbox"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port_of(SERVICES['sandbox']['command'])}/" in sandbox_check
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    for service in SERVICES.values():
        if "healthcheck" in service:
            assert service["healthcheck"]["test"][0] == "CMD"


def test_the_balancer_publishes_the_gateway_and_waits_for_every_replica() -> None:
    lb = SERVICES["lb"]
    assert lb["ports"] == ["8000:8000"]
    assert lb["depends_on"] == {name: {"condition": "service_healthy"} for name in REPLICAS}
    source, target, mode = lb["volumes"][0].split(":")
    assert (DEPLOY / source).resolve() == DEPLOY / "haproxy.cfg"
    assert target == "/usr/local/etc/haproxy/haproxy.cfg"
    assert mode == "ro"
    assert re.search(r"^\s+bind :8000$", HAPROXY_CONFIG, re.MULTILINE)


def test_the_balancer_config_names_the_three_replicas_and_checks_readiness() -> None:
    servers = backend_servers()
    assert servers == {name: f"{name}:{port_of(SERVICES[name]['command'])}" for name in REPLICAS}
    assert "option httpchk GET /readyz" in HAPROXY_CONFIG
    assert re.search(r"default-server check ", HAPROXY_CONFIG)
    timeout = re.search(r"timeout server (\d+)s", HAPROXY_CONFIG)
    assert timeout is not None
    assert int(timeout.group(1)) > Settings.model_validate({}).request_deadline


def test_redis_is_the_one_deploy_kubernetes_runs() -> None:
    service = SERVICES["redis"]
    assert service["image"] == container(redis())["image"]
    assert service["command"] == container(redis())["command"]


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="bin/install installs haproxy")
def test_haproxy_accepts_the_config() -> None:
    haproxy = shutil.which("haproxy") or "haproxy"
    check = subprocess.run(
        [haproxy, "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    assert "[ALERT]" not in check.stderr
    # the replicas' names resolve only on compose's network: not an error, and said so
    assert check.stderr.count("could not resolve address") == len(REPLICAS)
