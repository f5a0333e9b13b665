"""GraphiQL served by the gateway itself, from files built into this package.

The page loads a pinned GraphiQL build (web/graphiql/ builds it into static/)
with Subresource Integrity, talks to the gateway's own /graphql, and keeps
request headers (tokens) out of the browser's storage unless the user turns
"Persist headers" on in GraphiQL's settings.

    graphiql_page(settings)  the HTML page, for GET /graphql from a browser
    asset_routes()           the built files under /graphiql/
"""

from gateway.graphiql.assets import ASSETS_PREFIX, Manifest, asset_routes, load_manifest
from gateway.graphiql.page import default_headers, graphiql_page, render_page

__all__ = [
    "ASSETS_PREFIX",
    "Manifest",
    "asset_routes",
    "default_headers",
    "graphiql_page",
    "load_manifest",
    "render_page",
]
