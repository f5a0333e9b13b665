"""Which TCP ports a process listens on, read from Linux's /proc.

A test that starts a server as a process of its own, on a port it chose as free
a moment before, cannot tell from an answer on that port that its server gave
it: on a machine where other tests start servers too, another may have taken
the port meanwhile. A server started on port 0 takes a port nobody holds, and
this finds which; a server started on a chosen port can be checked to hold it.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

_LISTEN = "0A"


def listening_ports(pid: int) -> set[int]:
    """The ports of the TCP sockets `pid` holds in the listening state."""
    ports_by_inode: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == _LISTEN:
                ports_by_inode[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
    ports: set[int] = set()
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return ports
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith("socket:["):
            port = ports_by_inode.get(target[len("socket:[") : -1])
            if port is not None:
                ports.add(port)
    return ports


def port_of(process: subprocess.Popen[bytes], what: str, seconds: float = 60) -> int:
    """The port `process` listens on, once it does; fails if it exits first."""
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, f"{what} exited"
        ports = listening_ports(process.pid)
        if ports:
            return min(ports)
        assert time.monotonic() < deadline, f"{what} did not listen within {seconds} s"
        time.sleep(0.05)
