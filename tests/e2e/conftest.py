"""End-to-end fixtures: the real bot process, the Microsoft 365 Agents Playground, headless Chromium.

The Playground (npm, pinned in package.json) is a Teams-like client with a mock Bot Connector; the
bot runs as `python app.py` exactly as `make run` starts it. Screenshots go to artifacts/e2e/.
Without Chromium or Node these tests skip with a message naming what to install (and the run ends
with one loud line saying so) — except in CI (`CI` set), where they fail instead: CI must run them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.prerequisites import missing

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PLAYGROUND = ROOT / "node_modules" / ".bin" / "agentsplayground"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _missing() -> tuple[str, str] | None:
    """(what is missing, how to install it), or None when everything is here."""
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed at {CHROMIUM}", "`apt-get install chromium`, or set CHROMIUM_PATH"
    if shutil.which("node") is None:
        return "Node.js is not installed", "install Node.js 20 and npm"
    if not PLAYGROUND.exists():
        return "the Agents Playground is not installed", "run `npm ci` in the project folder"
    return None


@pytest.fixture(scope="session")
def e2e_ready() -> None:
    lacking = _missing()
    if lacking:
        missing(*lacking)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_http(url: str, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class Stack:
    """The bot and the Playground, started for one test module; `bot_log` holds the bot's output."""

    def __init__(self, workdir: Path, config: Path | None = None, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.bot_port = free_port()
        self.playground_port = free_port()
        self.bot_log = workdir / "bot.log"
        bot_env = {
            **os.environ,
            "PORT": str(self.bot_port),
            "DIAGNOSTICS_SOURCE": "demo",
            "STATE_STORE": f"sqlite:///{workdir / 'state.db'}",
            **(env or {}),
        }
        for key in ("MicrosoftAppId", "MicrosoftAppPassword", "GRAPH_CLIENT_SECRET", "EIGHTBYEIGHT_API_KEY"):
            bot_env.pop(key, None)
        self.bot = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")],
            cwd=workdir,
            env=bot_env,
            stdout=self.bot_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        _wait_for_http(f"http://127.0.0.1:{self.bot_port}/healthz", self.bot, "the bot")
        playground_env = {
            **os.environ,
            "TEAMSAPPTESTER_BROWSER": "none",
            "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config or ROOT / ".m365agentsplayground.yml"),
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(workdir / "playground.log"),
        }
        self.playground = subprocess.Popen(
            [
                str(PLAYGROUND),
                "start",
                "-e",
                f"http://127.0.0.1:{self.bot_port}/api/messages",
                "-c",
                "msteams",
                "-p",
                str(self.playground_port),
                "--dt",
            ],
            cwd=workdir,
            env=playground_env,
            stdout=(workdir / "playground.out").open("wb"),
            stderr=subprocess.STDOUT,
        )
        _wait_for_http(self.url, self.playground, "the Agents Playground")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.playground_port}"

    def stop(self) -> None:
        _stop(self.playground)
        _stop(self.bot)


@pytest.fixture(scope="module")
def stack(e2e_ready, tmp_path_factory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("e2e"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser(e2e_ready):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def client_page(browser, url: str, final_shot: str) -> Iterator:
    """A fresh browser page on the Playground at `url`; its last state is kept as `final_shot`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url, wait_until="domcontentloaded")
    try:
        yield page
    finally:
        screenshot(page, final_shot)
        context.close()


@pytest.fixture
def page(browser, stack, request):
    with client_page(browser, stack.url, f"{request.node.name}-final") as page:
        yield page


def screenshot(target, name: str) -> Path:
    """Save a PNG of a page (all of it) or of one element, such as a card, under artifacts/e2e/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if hasattr(target, "goto"):
        target.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    return path
