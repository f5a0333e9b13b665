"""`gateway serve [--host H] [--port P]` runs the gateway; `gateway sandbox` runs the
embedded sandbox on its own; `gateway schema` prints the schema's SDL."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError

from gateway.observability.logs import configure_logging
from gateway.settings import Settings
from gateway.state import SqliteState

logger = logging.getLogger("gateway")


def _loopback_for(host: str) -> str:
    """Where the gateway reaches itself (the mounted sandbox) when bound to `host`."""
    if host in ("0.0.0.0", "", "::"):  # noqa: S104 - matching the bind address, not binding
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def serve(host: str, port: int, workers: int | None) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"gateway: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    public_url = f"http://{_loopback_for(host)}:{port}"
    if settings.uses_sandbox:
        which = [
            name
            for name, is_sandbox in (
                ("Moneybird", settings.moneybird_is_sandbox),
                ("Monite", settings.monite_is_sandbox),
            )
            if is_sandbox
        ]
        logger.info(
            "no upstream configured for %s: serving the embedded sandbox at %s/sandbox "
            "(demo data; any non-empty token is accepted)",
            " and ".join(which),
            public_url,
        )
    print(f"GraphiQL: {public_url}/graphql", flush=True)
    # The sandbox keeps its data in memory: it needs the one process that serves it.
    count = 1 if settings.uses_sandbox else (workers or settings.workers or os.cpu_count() or 1)
    options: dict[str, Any] = {}
    run_directory: Path | None = None
    if count > 1:
        # Each worker builds its own app (and upstream clients) from the environment.
        target: Any = "gateway.app:create_production_app"
        options = {"factory": True, "workers": count}
        if settings.redis_url is not None:
            # The workers share Redis; each needs their number for its share of a call
            # budget while Redis cannot be reached.
            os.environ["GATEWAY_WORKERS"] = str(count)
        else:
            if settings.state_path is None:
                # The workers keep their shared state (call budgets) in a file of this run.
                run_directory = Path(tempfile.mkdtemp(prefix="gateway-run-"))
                state_path = run_directory / "state.sqlite3"
                os.environ["GATEWAY_STATE_PATH"] = str(state_path)
            else:
                state_path = settings.state_path
            try:
                asyncio.run(_prepare_state(state_path))
            except (OSError, sqlite3.Error) as exc:
                print(f"gateway: cannot open the state file {state_path}: {exc}", file=sys.stderr)
                return 2
    else:
        # Imported here so that a multi-worker supervisor does not hold the app too.
        from gateway.app import create_app

        target = create_app(settings, public_url=public_url)
    try:
        uvicorn.run(
            target,
            **options,
            host=host,
            port=port,
            log_level=settings.log_level,
            proxy_headers=False,
            server_header=False,
            log_config=None,  # keep our JSON handler for uvicorn's loggers too
            access_log=False,  # the gateway logs one line per operation instead
            timeout_graceful_shutdown=int(settings.request_deadline) + 5,
        )
    finally:
        if run_directory is not None:
            shutil.rmtree(run_directory, ignore_errors=True)
    return 0


async def _prepare_state(path: Path) -> None:
    """Create the state file's tables once, before the workers open it together."""
    await SqliteState(path).aclose()


def serve_sandbox(
    host: str,
    port: int,
    latency: float,
    log_limit: int,
    rate_limit: tuple[int, float] | None,
    webhook_retry_interval: float,
    contacts: int = 300,
) -> int:
    from gateway.sandbox.app import create_sandbox_app
    from gateway.sandbox.state import SandboxState

    state = SandboxState(
        contact_count=contacts,
        log_limit=log_limit,
        moneybird_rate_limit=rate_limit,
        moneybird_webhook_retry_interval=webhook_retry_interval,
    )
    for faults in state.faults.values():
        faults.latency = latency
    print(f"Sandbox: Moneybird at http://{host}:{port}/moneybird", flush=True)
    uvicorn.run(create_sandbox_app(state), host=host, port=port, log_level="warning")
    return 0


def _rate_limit(text: str) -> tuple[int, float]:
    from gateway.sandbox.throttle import RateLimit

    try:
        limit = RateLimit.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return (limit.requests, limit.seconds)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def schema_sdl() -> str:
    from gateway.schema import build_schema

    return build_schema().as_str() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the GraphQL gateway")
    serve_parser.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8000, help="port (8000)")
    serve_parser.add_argument(
        "--workers", type=int, default=None, help="processes (GATEWAY_WORKERS, else one per CPU)"
    )
    commands.add_parser("schema", help="print the GraphQL schema (SDL), as in schema.graphql")
    sandbox_parser = commands.add_parser("sandbox", help="run the embedded sandbox on its own")
    sandbox_parser.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1)")
    sandbox_parser.add_argument("--port", type=int, default=8100, help="port (8100)")
    sandbox_parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every upstream answer"
    )
    sandbox_parser.add_argument(
        "--log-limit", type=int, default=10_000, help="requests kept in the request log"
    )
    sandbox_parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        metavar="REQUESTS/SECONDS",
        help="Moneybird's rate limit per token, e.g. 150/300 as Moneybird has it (default: none)",
    )
    sandbox_parser.add_argument(
        "--webhook-retry-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wait before the first retry of a webhook push the receiver refused; "
        "retry n waits n times as long (60)",
    )
    sandbox_parser.add_argument(
        "--contacts",
        type=_positive,
        default=300,
        metavar="N",
        help="Moneybird contacts seeded in the administration (300)",
    )
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return serve_sandbox(
            args.host,
            args.port,
            args.latency,
            args.log_limit,
            args.rate_limit,
            args.webhook_retry_interval,
            args.contacts,
        )
    if args.command == "serve":
        return serve(args.host, args.port, args.workers)
    if args.command == "schema":
        print(schema_sdl(), end="")
        return 0
    return 2  # argparse has already refused anything else


if __name__ == "__main__":
    raise SystemExit(main())
