"""The shipped GraphiQL files are the ones the manifest describes, and the page
asks the browser to check the same digests (Subresource Integrity)."""

from __future__ import annotations

import base64
import hashlib
import json
from html.parser import HTMLParser

from gateway.graphiql import load_manifest, render_page
from gateway.graphiql.assets import MANIFEST_PATH, MEDIA_TYPES, STATIC_DIR


def digest(algorithm: str, data: bytes) -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


class Resources(HTMLParser):
    """Every <script src> and <link rel=stylesheet> of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if (tag == "script" and "src" in attributes) or (
            tag == "link" and attributes.get("rel") == "stylesheet"
        ):
            self.found.append(attributes)


def page_resources() -> list[dict[str, str | None]]:
    parser = Resources()
    parser.feed(render_page(endpoint="graphql", headers={}, query="{ __typename }"))
    return parser.found


def test_every_shipped_file_matches_its_manifest_digests() -> None:
    manifest = load_manifest()
    shipped = {path.name for path in STATIC_DIR.iterdir()}
    assert shipped == set(manifest.files), "static/ and manifest.json list different files"
    for name, asset in manifest.files.items():
        data = (STATIC_DIR / name).read_bytes()
        assert len(data) == asset.size, name
        assert digest("sha256", data) == asset.sha256, name
        assert digest("sha384", data) == asset.sha384, name


def test_every_shipped_file_has_a_known_media_type() -> None:
    for asset in load_manifest().files.values():
        assert asset.media_type in MEDIA_TYPES.values()


def test_the_page_loads_its_script_and_style_with_the_files_digests() -> None:
    resources = page_resources()
    assert len(resources) == 2
    for attributes in resources:
        url = attributes.get("src") or attributes.get("href")
        assert url is not None
        assert url.startswith("graphiql/"), "assets are served by the gateway, relative to it"
        data = (STATIC_DIR / url.removeprefix("graphiql/")).read_bytes()
        assert attributes["integrity"] == digest("sha384", data), url


def test_the_manifest_names_existing_entry_files() -> None:
    manifest = load_manifest()
    entries = [manifest.script, manifest.style, manifest.licenses, *manifest.workers.values()]
    for name in entries:
        assert name in manifest.files
    assert set(manifest.workers) == {"editor", "json", "graphql"}


def test_the_licenses_cover_every_bundled_package() -> None:
    manifest = load_manifest()
    licenses = (STATIC_DIR / manifest.licenses).read_text(encoding="utf-8")
    for package in manifest.packages:
        name, _, version = package.rpartition("@")
        assert f"\n{name} {version} (" in licenses, package
    for wanted in ("graphiql@5.4.0", "@graphiql/plugin-explorer@5.1.5", "react@19.3.1"):
        assert wanted in manifest.packages


def test_the_manifest_is_what_the_build_writes() -> None:
    # The build writes two-space JSON with a final newline; a hand edit that
    # reformats it is as suspect as one that changes a digest.
    text = MANIFEST_PATH.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
