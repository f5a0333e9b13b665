"""The gateway as deploy/kubernetes runs it: on a read-only root file system, with only
TMPDIR writable. No container engine here, so a mount namespace of the test's own
stands in for the container: every mount but /proc, /sys and /dev read-only, and a
tmpfs for TMPDIR. It runs as root, whom no permission stops but a read-only mount
does: the interpreter of this machine's venv may sit where the image's user could not
read it (tests/deploy/test_kubernetes.py checks that the pods run as that user)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateway.sandbox.state import SandboxState
from tests.servers import free_port

# Every mount read-only but the kernel's own, then a tmpfs for TMPDIR (when $1 is
# "tmpfs"), then the command. TMPDIR is a directory of the test's own rather than
# /tmp, which a tmpfs would hide along with anything else there (a checkout, say).
CONTAINER = """
set -e
awk '{print $2}' /proc/self/mounts | while read -r mount; do
  case "$mount" in /proc*|/sys*|/dev*) ;; *) mount -o remount,bind,ro "$mount" 2>/dev/null || true ;; esac
done
if [ "$1" = tmpfs ]; then mount -t tmpfs -o size=64m,mode=1777 tmpfs "$TMPDIR"; fi
shift
exec "$@"
"""


def _can_make_mount_namespaces() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    unshare = shutil.which("unshare") or "unshare"
    probe = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "mount", "-t", "tmpfs", "t", "/mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _can_make_mount_namespaces(), reason="needs root and mount namespaces (unshare)"
)


def start(sandbox_url: str, port: int, tmpdir: Path, tmpdir_mount: str) -> subprocess.Popen[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONEYBIRD_", "MONITE_", "GATEWAY_", "PYTEST_"))
    }
    env |= {
        "MONEYBIRD_BASE_URL": f"{sandbox_url}/moneybird",
        "MONITE_BASE_URL": f"{sandbox_url}/monite",
        "MONEYBIRD_ADMINISTRATION_ID": "123456789",
        "MONITE_ENTITY_ID": "9d2b4c8f-2087-4738-ba91-7359683c49a4",
        "GATEWAY_LOG_LEVEL": "warning",
        # as the Dockerfile and deploy/kubernetes/deployment.yaml have it
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": "/home/gateway",
        "TMPDIR": str(tmpdir),
    }
    # Two workers: they share their state through a SQLite file in a run directory
    # under TMPDIR, the one thing the gateway writes.
    command = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", "2"]
    container = ["sh", "-c", CONTAINER, "sh", tmpdir_mount, *command]
    return subprocess.Popen(
        [shutil.which("unshare") or "unshare", "--mount", "--propagation", "private", *container],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_gateway_serves_with_only_tmpdir_writable(
    sandbox: SandboxState, sandbox_url: str, tmp_path: Path
) -> None:
    # given
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(sandbox_url, port, tmp_path, "tmpfs")
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "gateway did not become ready"
            time.sleep(0.1)
        # when requests go through both workers, the mirror and the call budget with them
        headers = {"X-Moneybird-Token": "read-only", "Connection": "close"}
        query = {"query": "{ contacts(first: 3) { edges { node { displayName } } } }"}
        answers = [
            httpx.post(f"{url}/graphql", json=query, headers=headers, timeout=10).json()
            for _ in range(6)
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    # then
    for answer in answers:
        assert "errors" not in answer
        assert len(answer["data"]["contacts"]["edges"]) == 3
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Read-only file system" not in stderr
    assert "Traceback" not in stderr


def test_without_a_writable_tmpdir_it_cannot_start(tmp_path: Path) -> None:
    # given the same container with TMPDIR left read-only
    process = start("http://127.0.0.1:9", free_port(), tmp_path, "none")
    # then the run directory cannot be made: the root really is read-only
    _, stderr = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "No usable temporary directory" in stderr or "Read-only file system" in stderr
