"""A real Redis Cluster of three Redis 8 primaries on loopback, from the embedded binary."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path
from types import TracebackType

import redis

from ragis.db import EmbeddedRedis

SLOT_RANGES = ((0, 5460), (5461, 10922), (10923, 16383))
# One password for every node: a cluster client authenticates to each with the seed URL's.
PASSWORD = "cluster-nodes-password"


class LocalCluster:
    """Three primaries, slots split in thirds, joined with CLUSTER MEET; `url` seeds a client."""

    def __init__(self, root: Path) -> None:
        self.nodes = [
            EmbeddedRedis(
                root / f"node{i}",
                port=cluster_port(),
                password=PASSWORD,
                extra_args=[
                    *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
                    *("--cluster-node-timeout", "2000"),
                    # Slots of a stopped node fail alone: the other shards keep answering.
                    *("--cluster-require-full-coverage", "no"),
                ],
            )
            for i in range(len(SLOT_RANGES))
        ]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self) -> LocalCluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        for node in self.nodes:
            node.start()
        first = self.nodes[0]
        for node, (low, high) in zip(self.nodes, SLOT_RANGES, strict=True):
            client = redis.Redis(port=node.port, password=PASSWORD)
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)
            if node is not first:
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", first.port)
            client.close()
        self.wait_ok()

    def wait_ok(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            states = []
            for node in self.nodes:
                if not node.running:
                    continue
                client = redis.Redis(port=node.port, password=PASSWORD)
                info = client.execute_command("CLUSTER", "INFO").decode()
                client.close()
                states.append("cluster_state:ok" in info and "cluster_known_nodes:3" in info)
            if states and all(states):
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the cluster did not reach cluster_state:ok")
            time.sleep(0.1)

    def node_for_slot(self, slot: int) -> EmbeddedRedis:
        for node, (low, high) in zip(self.nodes, SLOT_RANGES, strict=True):
            if low <= slot <= high:
                return node
        raise ValueError(slot)

    def restart(self, node: EmbeddedRedis) -> None:
        """Start a stopped node on its old port: it rejoins from its nodes.conf and AOF."""
        node.requested_port = node.port
        node.start()
        self.wait_ok()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def cluster_port() -> int:
    """A free port P <= 55535 whose cluster bus port P + 10000 is free too."""
    for _ in range(1000):
        port = random.randint(20000, 55000)
        if _free(port) and _free(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
