"""Fixtures for the Codeforces tests: the real rating files, the synthetic set, a fake API server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from evalkit.registry import module_from_file

REPO = Path(__file__).resolve().parents[2]
SHARED_CODEFORCES = REPO / ".." / "shared" / "data" / "codeforces"


@pytest.fixture(scope="session")
def synthetic() -> ModuleType:
    """The synthetic-set builder module (tests/codeforces/synthetic.py; test folders are not packages)."""
    return module_from_file(Path(__file__).with_name("synthetic.py"))


@pytest.fixture(scope="session")
def shared_codeforces() -> Path:
    """../shared/data/codeforces with the real rating files; skips when absent."""
    path = SHARED_CODEFORCES.resolve()
    if not (path / "cf_rating_changes_911.json").is_file():
        pytest.skip(f"real Codeforces rating files not found in {path} (see ../shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def real_changes(shared_codeforces: Path) -> Callable[[int], list[dict[str, Any]]]:
    """Contest id -> its real rating-change rows (908, 911 or 917)."""

    def load(contest: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads((shared_codeforces / f"cf_rating_changes_{contest}.json").read_text())
        return rows

    return load


Route = Callable[[str, dict[str, str], int], tuple[int, Any]]


class FakeApi:
    """A loopback stand-in for codeforces.com/api: `route(method, params, attempt) -> (status, json)`."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.calls: list[tuple[str, dict[str, str]]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                method = url.path.rsplit("/", 1)[-1]
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                attempt = sum(1 for m, p in api.calls if m == method and p == params)
                api.calls.append((method, params))
                status, payload = api.route(method, params, attempt)
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/api"


@pytest.fixture
def fake_api() -> Iterator[Callable[[Route], FakeApi]]:
    """Start fake API servers on 127.0.0.1; they are shut down when the test ends."""
    started: list[FakeApi] = []

    def start(route: Route) -> FakeApi:
        api = FakeApi(route)
        api.thread.start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.server.shutdown()
        api.server.server_close()
