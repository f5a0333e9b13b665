"""What the Docker image installs, read from the files that say it (no Docker engine here):
the Python the project targets, the runtime part of uv.lock, and every file the package
reads at run time."""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
UV = ROOT / ".venv" / "bin" / "uv"


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in requirements}


def test_the_image_runs_the_python_the_project_targets() -> None:
    image = re.search(r"^ARG PYTHON_IMAGE=python:(\d+\.\d+)-slim$", DOCKERFILE, re.MULTILINE)
    assert image is not None
    version = image.group(1)
    assert PYPROJECT["project"]["requires-python"] == f">={version}"
    assert PYPROJECT["tool"]["mypy"]["python_version"] == version
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE) == ["${PYTHON_IMAGE}"] * 2


def test_the_image_installs_the_locked_versions_with_their_hashes() -> None:
    assert re.search(r"^COPY pyproject.toml uv.lock ", DOCKERFILE, re.MULTILINE)
    assert '["tool"]["uv"]["required-version"]' in DOCKERFILE
    assert "uv export --locked " in DOCKERFILE
    assert "pip install --require-hashes -r requirements.txt" in DOCKERFILE
    assert "pip install --no-deps ." in DOCKERFILE


@pytest.mark.skipif(not UV.exists(), reason="bin/install puts uv into .venv")
def test_the_images_export_of_the_lock_is_the_runtime_dependencies_only() -> None:
    # given the Dockerfile's own `uv export` command, written to standard output instead
    command = re.search(r"uv export ([^\\&\n]+)", DOCKERFILE)
    assert command is not None
    arguments = shlex.split(command.group(1))
    output = arguments.index("--output-file")
    del arguments[output : output + 2]

    # when run offline against this checkout's lock
    export = subprocess.run(
        [str(UV), "export", "--offline", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert export.returncode == 0, export.stderr
    exported = export.stdout

    # then it pins every runtime dependency with hashes, and no development tool
    pinned = re.findall(r"^([A-Za-z0-9._-]+==[^ ;\\]+)", exported, re.MULTILINE)
    assert pinned
    assert exported.count("==") == len(pinned)
    assert all(
        re.search(rf"^{re.escape(pin)}.*\\\n\s+--hash=sha256:", exported, re.MULTILINE)
        for pin in pinned
    )
    runtime = names(PYPROJECT["project"]["dependencies"])
    dev = names(PYPROJECT["project"]["optional-dependencies"]["dev"])
    assert runtime <= names(pinned)
    assert not dev & names(pinned)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_wheel_carries_every_file_the_package_holds_besides_its_modules() -> None:
    """A wheel, the image's install, has only modules and what package-data names."""
    git = shutil.which("git")
    assert git is not None
    tracked = subprocess.run(
        [git, "ls-files", "gateway"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    package_data: dict[str, list[str]] = PYPROJECT["tool"]["setuptools"].get("package-data", {})
    left_out = []
    for name in tracked:
        path = Path(name)
        if path.suffix == ".py":
            continue
        package = next(p for p in path.parents if (ROOT / p / "__init__.py").exists())
        relative = path.relative_to(package).as_posix()
        patterns = package_data.get(".".join(package.parts), []) + package_data.get("*", [])
        if not any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns):
            left_out.append(name)
    assert left_out == []
