"""GraphiQL's page and files as the gateway serves them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from gateway.graphiql import load_manifest
from tests.graphiql.serving import sandbox_settings, serve_gateway

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
REAL_UPSTREAMS = {
    "moneybird_base_url": "https://moneybird.example/api/v2",
    "monite_base_url": "https://monite.example/v1",
}


@contextmanager
def client(**settings: Any) -> Iterator[httpx.Client]:
    with (
        serve_gateway(sandbox_settings(**settings)) as url,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        yield http


@pytest.fixture(scope="module")
def sandbox_client() -> Iterator[httpx.Client]:
    with client() as http:
        yield http


def page_config(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="graphiql-config">(.*?)</script>', html, re.S
    )
    assert found is not None
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def test_a_browser_gets_the_page(sandbox_client: httpx.Client) -> None:
    response = sandbox_client.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    manifest = load_manifest()
    assert f'src="graphiql/{manifest.script}"' in response.text
    assert f'href="graphiql/{manifest.style}"' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "https:" not in response.text


def test_the_page_talks_to_the_gateway_and_loads_its_workers_from_it(
    sandbox_client: httpx.Client,
) -> None:
    config = page_config(sandbox_client.get("/graphql", headers=BROWSER).text)
    assert config["endpoint"] == "graphql"
    for label, url in config["workers"].items():
        assert url == f"graphiql/{load_manifest().workers[label]}"
        assert sandbox_client.get(f"/{url}").status_code == 200


def test_on_the_sandbox_the_page_opens_with_the_demo_tokens_and_an_example(
    sandbox_client: httpx.Client,
) -> None:
    config = page_config(sandbox_client.get("/graphql", headers=BROWSER).text)
    assert json.loads(config["headers"]) == {"X-Moneybird-Token": "demo", "X-Monite-Token": "demo"}
    assert "contacts(first: 5)" in config["query"]


def test_with_real_upstreams_the_page_names_the_headers_but_fills_in_no_token() -> None:
    with client(**REAL_UPSTREAMS) as test_client:
        config = page_config(test_client.get("/graphql", headers=BROWSER).text)
        assert json.loads(config["headers"]) == {
            "X-Moneybird-Token": "",
            "X-Monite-Token": "",
            "X-Moneybird-Administration-Id": "",
            "X-Monite-Entity-Id": "",
        }
        assert "contacts(first: 5)" in config["query"]


def test_configured_ids_are_left_out_of_the_headers_template() -> None:
    settings = {
        **REAL_UPSTREAMS,
        "moneybird_administration_id": "123",
        "monite_entity_id": "9d2b4c8f-2087-4738-ba91-7359683c49a4",
    }
    with client(**settings) as test_client:
        config = page_config(test_client.get("/graphql", headers=BROWSER).text)
        assert json.loads(config["headers"]) == {"X-Moneybird-Token": "", "X-Monite-Token": ""}


def test_the_example_query_runs_on_the_sandbox(sandbox_client: httpx.Client) -> None:
    config = page_config(sandbox_client.get("/graphql", headers=BROWSER).text)
    response = sandbox_client.post(
        "/graphql", json={"query": config["query"]}, headers=json.loads(config["headers"])
    )
    body = response.json()
    assert "errors" not in body
    assert len(body["data"]["contacts"]["edges"]) == 5
    assert len(body["data"]["counterparts"]["edges"]) == 5


@pytest.mark.parametrize("name", ["script", "style", "licenses"])
def test_files_are_served_with_their_type_and_caching(
    sandbox_client: httpx.Client, name: str
) -> None:
    manifest = load_manifest()
    file_name = getattr(manifest, name)
    response = sandbox_client.get(f"/graphiql/{file_name}")
    assert response.status_code == 200
    assert response.content == manifest.asset(file_name).path.read_bytes()
    expected_type = {
        "script": "text/javascript; charset=utf-8",
        "style": "text/css; charset=utf-8",
        "licenses": "text/plain; charset=utf-8",
    }[name]
    assert response.headers["content-type"] == expected_type
    assert response.headers["x-content-type-options"] == "nosniff"
    if name == "licenses":
        assert response.headers["cache-control"] == "public, no-cache"
    else:
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_the_icon_font_and_workers_are_served(sandbox_client: httpx.Client) -> None:
    manifest = load_manifest()
    font = next(name for name in manifest.files if name.endswith(".ttf"))
    assert sandbox_client.get(f"/graphiql/{font}").headers["content-type"] == "font/ttf"
    for worker in manifest.workers.values():
        response = sandbox_client.get(f"/graphiql/{worker}")
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"


def test_the_script_is_compressed_for_browsers_that_accept_it(sandbox_client: httpx.Client) -> None:
    manifest = load_manifest()
    response = sandbox_client.get(
        f"/graphiql/{manifest.script}", headers={"accept-encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == manifest.asset(manifest.script).path.read_bytes()


@pytest.mark.parametrize(
    "path", ["/graphiql/unknown.js", "/graphiql/..%2Fmanifest.json", "/graphiql/manifest.json"]
)
def test_only_the_manifest_files_are_served(sandbox_client: httpx.Client, path: str) -> None:
    assert sandbox_client.get(path).status_code == 404


def test_with_graphiql_off_neither_page_nor_files_are_served() -> None:
    manifest = load_manifest()
    with client(graphiql=False) as test_client:
        page = test_client.get("/graphql", headers=BROWSER)
        assert "text/html" not in page.headers.get("content-type", "")
        for name in manifest.files:
            assert test_client.get(f"/graphiql/{name}").status_code == 404
