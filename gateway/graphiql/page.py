"""The GraphiQL page: the built script and style with their integrity digests,
and the gateway's defaults (endpoint, headers, example query) as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

from starlette.responses import HTMLResponse

from gateway.graphiql.assets import load_manifest
from gateway.settings import Settings

TEMPLATE = Template((Path(__file__).parent / "page.html").read_text(encoding="utf-8"))

# Relative to the page (GET /graphql), like the asset URLs.
ENDPOINT = "graphql"

# The sandbox accepts any non-empty token.
SANDBOX_TOKEN = "demo"  # noqa: S105 - the sandbox's documented demo token, not a secret

EXAMPLE_QUERY = """\
# Moneybird contacts and Monite counterparts in one request.
# Credentials go in the Headers tab below; they are not stored
# unless you turn "Persist headers" on in the settings.
# Run with Ctrl-Enter or the ▶ button. The Explorer in the
# sidebar builds a query as you tick fields.

query ContactsAndCounterparts {
  contacts(first: 5) {
    edges {
      node {
        id
        displayName
        email
        city
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
  counterparts(first: 5) {
    edges {
      node {
        id
        name
        type
      }
    }
  }
}
"""

# Everything the page loads comes from the gateway. Monaco adds <style>
# elements at run time, hence 'unsafe-inline' for styles only; GraphiQL's
# stylesheet carries its fonts as data: URLs.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


def default_headers(settings: Settings) -> dict[str, str]:
    """The Headers tab as the page opens: the demo token for an upstream served by
    the embedded sandbox, an empty value to fill in for a real one, and the id
    headers a real upstream needs when the settings give no default."""
    headers = {
        "X-Moneybird-Token": SANDBOX_TOKEN if settings.moneybird_is_sandbox else "",
        "X-Monite-Token": SANDBOX_TOKEN if settings.monite_is_sandbox else "",
    }
    if settings.moneybird_administration_id is None:
        headers["X-Moneybird-Administration-Id"] = ""
    if settings.monite_entity_id is None:
        headers["X-Monite-Entity-Id"] = ""
    return headers


def _script_json(value: object) -> str:
    """JSON that cannot end the <script> element holding it."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(*, endpoint: str, headers: dict[str, str], query: str) -> str:
    manifest = load_manifest()
    config = {
        "endpoint": endpoint,
        "headers": json.dumps(headers, indent=2),
        "query": query,
        "workers": {label: manifest.url(name) for label, name in manifest.workers.items()},
    }
    return TEMPLATE.substitute(
        style_url=manifest.url(manifest.style),
        style_integrity=manifest.asset(manifest.style).sha384,
        script_url=manifest.url(manifest.script),
        script_integrity=manifest.asset(manifest.script).sha384,
        config=_script_json(config),
    )


def graphiql_page(settings: Settings) -> HTMLResponse:
    page = render_page(endpoint=ENDPOINT, headers=default_headers(settings), query=EXAMPLE_QUERY)
    return HTMLResponse(
        page,
        headers={
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "cache-control": "no-cache",
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
        },
    )
