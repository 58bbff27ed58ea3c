"""Shared pytest fixtures. Each module's fixtures live in their own marked section below."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import threading
from pathlib import Path

import pytest

from fake_data import write_tiny_mnist

# Quiet TensorFlow's C++ logs; must happen before anything imports tensorflow (nothing above does).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow's own CPU kernels, not oneDNN's, in the tests and every process and kernel they start (the
# notebooks' setdefault keeps this): the resume tests compare weights bit for bit between processes, and on
# an AVX2 Zen 3 (2026-12-06) oneDNN's float32 kernels gave a killed-and-resumed run last-bit differences
# from an uninterrupted one. oneDNN's speed is measured in benchmarks/ (throughput.py), not here.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# On a GPU the test processes (two xdist workers) and the notebook kernels they start share it: each
# takes GPU memory as it needs it instead of all of it at its first operation.
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

# ==================================================================================================
# Data fixtures (gan_helpers.data): tiny IDX files and a local HTTP server acting as mirrors
# ==================================================================================================

@pytest.fixture(scope="session")
def tiny_mnist_dir(tmp_path_factory) -> Path:
    """A folder with the four MNIST-named .gz IDX files: 256 train and 64 test examples."""
    return write_tiny_mnist(tmp_path_factory.mktemp("tiny_mnist"))


class _MirrorRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from the server's folder, records every request, and fails on /status/<code>/..."""

    def do_GET(self) -> None:  # noqa: N802 (name fixed by http.server)
        self.server.request_log.append(self.path)
        parts = self.path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "status" and parts[1].isdigit():
            self.send_error(int(parts[1]), "failing on purpose (test mirror)")
            return
        super().do_GET()

    def log_message(self, format, *args) -> None:  # noqa: A002 - keep test output quiet
        pass


class LocalMirrors:
    """A ThreadingHTTPServer on 127.0.0.1 serving ``root``; each sub-folder of root acts as a mirror.

    - ``add_mirror(name, files)`` writes ``files`` (file name -> bytes) into ``root/name`` and returns
      its base URL;
    - ``failing_url(status)`` is a base URL whose every request answers with that HTTP status;
    - ``refused_url()`` is a base URL on a port where nothing listens (connection refused);
    - ``requests`` lists the paths requested so far (``clear_requests()`` resets it).
    """

    def __init__(self, root: Path):
        self.root = root
        handler = functools.partial(_MirrorRequestHandler, directory=str(root))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.request_log = []
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def requests(self) -> list[str]:
        return list(self._server.request_log)

    def clear_requests(self) -> None:
        self._server.request_log.clear()

    def url(self, folder: str) -> str:
        return f"http://127.0.0.1:{self.port}/{folder}/"

    def add_mirror(self, name: str, files: dict[str, bytes]) -> str:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, content in files.items():
            (folder / file_name).write_bytes(content)
        return self.url(name)

    def failing_url(self, status: int = 404) -> str:
        return self.url(f"status/{status}")

    @staticmethod
    def refused_url() -> str:
        with socket.socket() as probe:  # take a free port, then release it: nothing listens there
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return f"http://127.0.0.1:{port}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def http_server(tmp_path_factory) -> LocalMirrors:
    """A local HTTP server whose sub-folders act as dataset mirrors; shut down after the test."""
    server = LocalMirrors(tmp_path_factory.mktemp("mirrors"))
    try:
        yield server
    finally:
        server.close()


# ==================================================================================================
# End of data fixtures
# ==================================================================================================
