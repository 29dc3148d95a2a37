"""The service under test: the rules loaded once per session, the app served by uvicorn on a free
port in a thread (a real HTTP server and client), and an in-process ASGI client for the fuzz run."""

import asyncio
import json
import os
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from tests.conftest import EXAMPLES, RULES

COAL = os.path.join(EXAMPLES, "coal-underground-2026.json")


def example(name):
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as fh:
        return json.load(fh)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def service_rules():
    from safetyrules import load_rules

    return load_rules(os.path.join(RULES, "mining"), os.path.join(RULES, "construction"))


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a thread of this process."""

    def __init__(self, app):
        self.app = app
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.sock = sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="module")
def live(service_rules):
    from safetyrules.service import create_app

    with LiveServer(create_app(service_rules, env={})) as server:
        yield server


@pytest.fixture(scope="module")
def http(live):
    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


class AsgiClient:
    """Requests to an app in this process, without a socket (httpx's ASGI transport)."""

    def __init__(self, app):
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://service"
        )

    def request(self, method, url, **kwargs):
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def close(self):
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
