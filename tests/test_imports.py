"""Importing the gateway builds nothing and leaves the sandbox out."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import importlib, sys
import strawberry

built = []
original = strawberry.Schema.__init__

def recording(self, *args, **kwargs):
    built.append(True)
    original(self, *args, **kwargs)

strawberry.Schema.__init__ = recording
from pathlib import Path
import gateway
root = Path(gateway.__file__).parent
names = [
    ".".join(("gateway", *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
    for path in root.rglob("*.py")
]
names = [n for n in names if not n.startswith(("gateway.sandbox", "gateway.__main__"))]
for name in names:
    importlib.import_module(name)
print(len(names), len(built), sorted(m for m in sys.modules if m.startswith("gateway.sandbox")))
"""


def test_importing_every_module_builds_no_schema_and_imports_no_sandbox() -> None:
    output = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout.split(" ", 2)
    modules, schemas_built, sandbox_modules = output
    assert int(modules) > 30
    assert schemas_built == "0"
    assert sandbox_modules.strip() == "[]"
