"""Real servers on loopback: an app under uvicorn in a thread with its own event
loop, or `gateway serve` as a process of its own, as production runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from starlette.types import ASGIApp


@contextmanager
def serve(app: ASGIApp, port: int = 0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at `port` (a free one by default); yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    """A port nothing listens on now, for an app that must know its URL before it starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class Process:
    url: str
    process: subprocess.Popen[str]


@contextmanager
def gateway_serve(
    env: Mapping[str, str],
    *,
    workers: int | None = None,
    port: int | None = None,
    ready: str = "/readyz",
    output: bool = False,
) -> Iterator[Process]:
    """`gateway serve` on 127.0.0.1, with the upstream and GATEWAY_ settings of this
    environment replaced by `env`; yields once `ready` answers 200, stops it after.
    With `output`, its stdout and stderr are kept in `process.stdout`."""
    port = port or free_port()
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MONEYBIRD_", "MONITE_", "GATEWAY_"))
    }
    environment |= env
    command = [sys.executable, "-m", "gateway", "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.PIPE if output else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}{ready}").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                said = process.communicate()[0] if output else ""
                raise RuntimeError(f"gateway serve did not start: {said}")
            time.sleep(0.1)
        yield Process(url, process)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
        if output and process.stdout is not None:
            process.stdout.close()
