"""A clone of the committed HEAD, with nothing beside it, installs and passes its own
`bin/test`; a second `bin/serve` there answers /healthz within 2 s with no package index
reachable.

It takes minutes: `bin/test -m "not slow"` leaves it out. The run inside the clone skips
this module (GATEWAY_TEST_INSIDE_FRESH_CLONE)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
INSIDE = "GATEWAY_TEST_INSIDE_FRESH_CLONE"
GIT = shutil.which("git")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get(INSIDE) == "1", reason="already inside a fresh clone"),
    pytest.mark.skipif(GIT is None or not (ROOT / ".git").exists(), reason="not a git checkout"),
]


@dataclass
class FreshClone:
    path: Path
    install_seconds: float
    test_seconds: float
    test_returncode: int
    log: Path


def clean_environment() -> dict[str, str]:
    """This run's environment without what would make the clone use this checkout."""
    own_bin = (ROOT / ".venv" / "bin").resolve()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    env["PATH"] = os.pathsep.join(
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if entry and Path(entry).resolve() != own_bin
    )
    return env | {INSIDE: "1"}


def no_index_environment() -> dict[str, str]:
    """Every package index and proxy pointing at a loopback port where nothing listens."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = clean_environment() | {
        "PIP_INDEX_URL": f"{nowhere}/simple",
        "PIP_EXTRA_INDEX_URL": f"{nowhere}/simple",
        "PIP_FIND_LINKS": f"{nowhere}/links",
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "2",
        "UV_OFFLINE": "1",
        "UV_DEFAULT_INDEX": f"{nowhere}/simple",
        "UV_INDEX_URL": f"{nowhere}/simple",
        "NO_PROXY": "127.0.0.1,localhost,::1",
        "no_proxy": "127.0.0.1,localhost,::1",
    }
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[proxy] = env[proxy.lower()] = nowhere
    return env


def run_logged(command: list[str], cwd: Path, log: Path, timeout: float) -> tuple[int, float]:
    """Run `command`, appending its output to `log`; its exit status and seconds taken."""
    started = time.monotonic()
    with log.open("a") as output:
        output.write(f"$ {' '.join(command)}\n")
        output.flush()
        completed = subprocess.run(
            command,
            cwd=cwd,
            env=clean_environment(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    return completed.returncode, time.monotonic() - started


def tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshClone]:
    """The committed HEAD cloned into an empty directory, installed, then its `bin/test` run."""
    assert GIT is not None
    workdir = tmp_path_factory.mktemp("fresh-clone")
    path, log = workdir / "repo", workdir / "output.log"
    subprocess.run([GIT, "clone", "--quiet", str(ROOT), str(path)], check=True, timeout=120)
    try:
        installed, install_seconds = run_logged([str(path / "bin/install")], path, log, 900)
        assert installed == 0, f"bin/install failed in the clone:\n{tail(log)}"
        returncode, test_seconds = run_logged([str(path / "bin/test")], path, log, 1200)
        yield FreshClone(path, install_seconds, test_seconds, returncode, log)
    finally:
        # The clone's .venv is a few hundred MB: not worth keeping among pytest's temp dirs.
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_fresh_clone_passes_its_tests(
    fresh_clone: FreshClone, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print(
            f"\n[fresh clone] bin/install {fresh_clone.install_seconds:.1f} s, "
            f"then bin/test {fresh_clone.test_seconds:.1f} s"
        )
    assert fresh_clone.test_returncode == 0, (
        f"bin/test failed in the clone:\n{tail(fresh_clone.log)}"
    )


def test_a_second_serve_answers_within_2_s_with_no_index_reachable(
    fresh_clone: FreshClone, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the installed clone, in an environment where no package index answers
    env = no_index_environment()
    python = str(fresh_clone.path / ".venv/bin/python")
    probe = subprocess.run(
        [python, "-m", "pip", "download", "--no-deps", "--dest", str(tmp_path), "six"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode != 0, "pip still reached a package index"

    # when bin/serve starts again, a few times: other work on the machine only adds time
    answers = [serve_once(fresh_clone.path, env, tmp_path / f"serve-{n}.log") for n in range(3)]

    # then /healthz answers within 2 s of the process starting
    with capsys.disabled():
        took = ", ".join("no answer" if a is None else f"{a:.2f} s" for a in answers)
        print(f"\n[fresh clone] bin/serve again, no package index reachable: /healthz after {took}")
    assert None not in answers, f"no answer from bin/serve:\n{tail(tmp_path / 'serve-0.log')}"
    assert min(a for a in answers if a is not None) < 2.0


def serve_once(clone: Path, env: dict[str, str], log: Path) -> float | None:
    """Start the clone's bin/serve; seconds from its start to /healthz's answer, then stop it."""
    port = free_port()
    started = time.monotonic()
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(clone / "bin/serve"), "--port", str(port)],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            return wait_for_healthz(f"http://127.0.0.1:{port}/healthz", server, started, limit=20)
        finally:
            stop(server)


def wait_for_healthz(
    url: str, server: subprocess.Popen[bytes], started: float, limit: float
) -> float | None:
    """Seconds from `started` to the first 200 from `url`; None when the server exits first."""
    while server.poll() is None and time.monotonic() - started < limit:
        try:
            if httpx.get(url, timeout=0.5, trust_env=False).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(0.02)
    return None


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL if it is still there after 20 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            continue
