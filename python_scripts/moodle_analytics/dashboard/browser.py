"""Open a local page in headless Chromium, offline, and collect what went wrong.

Used by the rendering checks: Debian's /usr/bin/chromium driven by Playwright,
every request that is not a local file blocked (the pages must work offline),
uncaught script errors and console errors recorded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path(os.environ.get("MOODLE_ANALYTICS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class ChromiumMissingError(RuntimeError):
    """Chromium is not installed and could not be installed."""


def ensure_chromium() -> Path:
    """The Chromium binary; installed with apt-get (Debian's package) when missing and
    running as root, as `make system-packages` does."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run([apt, "update", "-qq"], check=False, env=environment)
        subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=False, env=environment)
    if not CHROMIUM.exists():
        raise ChromiumMissingError(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium, "
            "or `make system-packages`)"
        )
    return CHROMIUM


@dataclass
class PageProblems:
    """What went wrong while a page was open."""

    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)

    def script_errors(self) -> list[str]:
        """Uncaught errors and console errors; messages about resources that could not be
        loaded are left out (blocked network requests, and dbt docs' unbound icon templates
        such as `{{ getIcon(...) }}` that Chromium refuses to load from a file: page)."""
        network = ("Failed to load resource", "net::ERR_", "Unsafe attempt to load URL")
        return self.page_errors + [
            message for message in self.console_errors if not message.startswith(network)
        ]


@contextmanager
def offline_page(width: int = 1400, height: int = 900) -> Iterator[tuple[object, PageProblems]]:
    """A Playwright page in headless Chromium that can only load file:// and data: URLs."""
    from playwright.sync_api import sync_playwright  # imported here: only tests need it

    executable = ensure_chromium()
    problems = PageProblems()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), args=list(CHROMIUM_FLAGS), headless=True
        )
        try:
            context = browser.new_context(viewport={"width": width, "height": height})

            def route(request_route: object) -> None:
                url = request_route.request.url  # type: ignore[attr-defined]
                if url.startswith(("file:", "data:", "blob:", "about:")):
                    request_route.continue_()  # type: ignore[attr-defined]
                else:
                    problems.blocked_requests.append(url)
                    request_route.abort()  # type: ignore[attr-defined]

            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    problems.console_errors.append(message.text)
                    if message.type == "error"
                    else None
                ),
            )
            yield page, problems
        finally:
            browser.close()
