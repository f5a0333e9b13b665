"""The built GraphiQL files, as manifest.json lists them, served under /graphiql/.

Only files the manifest names are served. Their names carry a content hash, so
browsers may cache them for a year without asking again; the license text keeps
one name and is revalidated instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, Router

PACKAGE_DIR = Path(__file__).parent
STATIC_DIR = PACKAGE_DIR / "static"
MANIFEST_PATH = PACKAGE_DIR / "manifest.json"
ASSETS_PREFIX = "/graphiql"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"

# Named here rather than guessed: Python's mimetypes reads the host's tables.
MEDIA_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".txt": "text/plain",
}


@dataclass(frozen=True)
class Asset:
    name: str
    sha256: str
    sha384: str
    size: int

    @property
    def path(self) -> Path:
        return STATIC_DIR / self.name

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[Path(self.name).suffix]


@dataclass(frozen=True)
class Manifest:
    """What web/graphiql/build.mjs built: every file with its digests, and which
    file is the page's script, its style, each Monaco worker and the licenses."""

    files: dict[str, Asset]
    script: str
    style: str
    workers: dict[str, str]
    licenses: str
    packages: tuple[str, ...]

    def asset(self, name: str) -> Asset:
        return self.files[name]

    def url(self, name: str) -> str:
        """The file's URL relative to /graphql, the page's own address, so that
        the page works behind a proxy that serves the gateway under a path."""
        return f"{ASSETS_PREFIX.lstrip('/')}/{self.asset(name).name}"

    def immutable(self, name: str) -> bool:
        return name != self.licenses


@cache
def load_manifest() -> Manifest:
    raw: dict[str, Any] = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    files = {
        name: Asset(name=name, sha256=entry["sha256"], sha384=entry["sha384"], size=entry["bytes"])
        for name, entry in raw["files"].items()
    }
    entries = raw["entries"]
    return Manifest(
        files=files,
        script=entries["script"],
        style=entries["style"],
        workers=dict(entries["workers"]),
        licenses=entries["licenses"],
        packages=tuple(raw["packages"]),
    )


def asset_routes() -> list[Route | Mount]:
    """The routes serving the built files; add them only when GraphiQL is on."""
    manifest = load_manifest()

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        found = manifest.files.get(name)
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(
            found.path,
            media_type=found.media_type,
            headers={
                "cache-control": IMMUTABLE if manifest.immutable(name) else REVALIDATE,
                "x-content-type-options": "nosniff",
            },
        )

    files = Router(routes=[Route("/{name}", asset, methods=["GET", "HEAD"])])
    # The script is megabytes of JavaScript; compressed once per browser, as
    # immutable files are not asked for again.
    return [Mount(ASSETS_PREFIX, app=GZipMiddleware(files, minimum_size=1024, compresslevel=6))]
