"""A real redis-server on loopback, started by the test that needs it.

Debian's redis-server (bin/install installs it). The server keeps nothing on
disk, so that stopping and starting it again on the same port is a Redis that
lost everything, as one restarted without persistence is.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.listening import listening_ports
from tests.servers import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.started = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server, on its port again after `stop`. The first time, a port
        another process took since it was chosen is left for another one."""
        for _ in range(5):
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    *("--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no"),
                    *("--dir", str(self.directory), "--loglevel", "warning"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 20
            while self.process.poll() is None and self.port not in listening_ports(
                self.process.pid
            ):
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)
            if self.process.poll() is None:
                break
            assert not self.started, f"redis-server could not listen on {self.port} again"
            self.port = free_port()
        else:
            raise AssertionError("redis-server found no free port")
        self.started = True
        while not self.answers():
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.02)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Kill the server at once, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        """The server stops answering but keeps its connections: a slow Redis."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.resume()
        server.stop()
