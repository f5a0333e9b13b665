"""The gateway on loopback, mounting its embedded sandbox when the settings name
no upstream: the sandbox's URL is the gateway's own, so the port is taken first."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from gateway.settings import Settings


@contextmanager
def serve_gateway(settings: Settings, sandbox: SandboxState | None = None) -> Iterator[str]:
    """Serve the gateway on 127.0.0.1 at a free port; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    app = create_app(settings, public_url=url, sandbox=sandbox)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    try:
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test gateway did not start")
            time.sleep(0.01)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def sandbox_settings(**overrides: Any) -> Settings:
    """The default settings (the embedded sandbox) with `overrides`; validated
    directly, so that the environment of the test run plays no part."""
    return Settings.model_validate(overrides)
