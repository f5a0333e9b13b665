"""Running the Node client suite in clients/ from pytest.

Its packages come from clients/package-lock.json through bin/install (npm ci).
Without them the tests that need them fail, saying so: a skipped test would
pass a run that never tried the clients.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

CLIENTS = Path(__file__).resolve().parents[2] / "clients"


def run_script(script: str, *args: str, timeout: float = 120) -> Any:
    """Run `clients/<script>` with node and return the JSON it printed; fail the
    test with its output when it exits non-zero."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the client tests need Node.js 20+", pytrace=False)
    return json.loads(_run([node, script, *args], timeout))


def run_tool(name: str, *args: str, timeout: float = 120) -> str:
    """Run a command an npm package installs (clients/node_modules/.bin) and
    return what it printed."""
    return _run([str(CLIENTS / "node_modules" / ".bin" / name), *args], timeout)


def _run(command: list[str], timeout: float) -> str:
    if not (CLIENTS / "node_modules" / ".package-lock.json").is_file():
        pytest.fail(
            "clients/node_modules is missing: run bin/install, which runs npm ci in clients/",
            pytrace=False,
        )
    completed = subprocess.run(
        command, cwd=CLIENTS, capture_output=True, text=True, timeout=timeout, check=False
    )
    if completed.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {completed.returncode}\n"
            f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}",
            pytrace=False,
        )
    return completed.stdout
