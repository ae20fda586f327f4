"""Worker hosts as Linux network namespaces on one machine, for the multi-host test.

``Network`` builds a bridge with an address of its own and one namespace per host,
each joined to the bridge by a veth pair. PostgreSQL and Redis listen on loopback
only, so the bridge address forwards their ports there (a thread per connection, in
the test process): a host reaches them only over its veth link, and a host whose
link is down reaches nothing. Everything it creates it removes (``close``), and
names carry the test process's id, so two runs never collide.

Needs root (CI runs as root on this machine) and ``ip`` (iproute2).
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from dataclasses import dataclass, field


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@dataclass
class Host:
    name: str  # the namespace
    address: str
    veth: str  # its end of the pair, inside the namespace

    def cut(self) -> None:
        """Take the host off the network (its link down): nothing in or out."""
        _ip("-n", self.name, "link", "set", self.veth, "down")

    def reconnect(self) -> None:
        _ip("-n", self.name, "link", "set", self.veth, "up")

    def command(self, *argv: str) -> list[str]:
        """``argv`` run inside the host's namespace."""
        return ["ip", "netns", "exec", self.name, *argv]


class _Forward(threading.Thread):
    """Accept on ``listen`` and pipe each connection to ``target`` (both ``(host, port)``)."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]):
        super().__init__(daemon=True)
        self.target = target
        self.server = socket.create_server(listen, reuse_port=False)
        self.server.settimeout(0.2)
        self.stopped = threading.Event()
        self.open: list[socket.socket] = []

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()
        self.server.close()
        for sock in self.open:
            try:
                sock.close()
            except OSError:
                pass


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass
class Network:
    hosts: list[Host] = field(default_factory=list)
    bridge: str = ""
    address: str = ""  # the bridge's: where the hosts find PostgreSQL and Redis
    _forwards: list[_Forward] = field(default_factory=list)
    _namespaces: list[str] = field(default_factory=list)
    _links: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, count: int, *, forward_ports: tuple[int, ...]) -> Network:
        tag = os.getpid() % 10000
        subnet = f"10.{200 + tag % 50}.{tag % 250}"
        net = cls(bridge=f"prsmbr{tag}", address=f"{subnet}.1")
        try:
            _ip("link", "add", net.bridge, "type", "bridge")
            net._links.append(net.bridge)
            _ip("addr", "add", f"{net.address}/24", "dev", net.bridge)
            _ip("link", "set", net.bridge, "up")
            for i in range(1, count + 1):
                name, outer, inner = f"prsm{tag}h{i}", f"pv{tag}h{i}", f"pv{tag}h{i}n"
                _ip("netns", "add", name)
                net._namespaces.append(name)
                _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
                net._links.append(outer)
                _ip("link", "set", outer, "master", net.bridge)
                _ip("link", "set", outer, "up")
                _ip("link", "set", inner, "netns", name)
                address = f"{subnet}.{10 + i}"
                _ip("-n", name, "addr", "add", f"{address}/24", "dev", inner)
                _ip("-n", name, "link", "set", inner, "up")
                _ip("-n", name, "link", "set", "lo", "up")
                net.hosts.append(Host(name=name, address=address, veth=inner))
            for port in forward_ports:
                forward = _Forward((net.address, port), ("127.0.0.1", port))
                forward.start()
                net._forwards.append(forward)
        except BaseException:
            net.close()
            raise
        return net

    def close(self) -> None:
        for forward in self._forwards:
            forward.stop()
        for name in self._namespaces:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
        for link in reversed(self._links):  # a veth goes with its namespace's end
            subprocess.run(["ip", "link", "del", link], capture_output=True, timeout=10)
