"""Helpers of the browser journeys (tests/e2e/test_journeys.py).

Expected texts are computed from the same msgids the templates and views use,
translated with the Indonesian catalogue, so a change of wording in the
catalogue does not break the journeys but an untranslated string does.
"""

from __future__ import annotations

import io
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.utils.translation import gettext, override, pgettext

from inmates.demo import DEMO_PASSWORD

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")


def idn(msgid: str, *, context: str | None = None, translated: bool = True, **params: Any) -> str:
    """The Indonesian text of ``msgid`` (with ``params`` filled in).

    With ``translated`` (the default) the Indonesian text must differ from the
    English msgid: the user is meant to read Bahasa Indonesia, and an
    untranslated string is a failure, not a wording change.
    """
    with override("id"):
        text = pgettext(context, msgid) if context else gettext(msgid)
    if translated:
        assert text != msgid, f"not translated into Indonesian: {msgid!r}"
    return text % params if params else text


def label(choice: Any) -> str:
    """The Indonesian label of a model choice (e.g. ``ImportJob.Status.DONE``), which must be translated."""
    with override("id"):
        text = str(choice.label)
    with override("en"):
        english = str(choice.label)
    assert text != english, f"not translated into Indonesian: {english!r}"
    return text


def squash(text: str) -> str:
    """Whitespace collapsed, as a reader sees it."""
    return " ".join(text.split())


def fragments(msgid: str, *, translated: bool = True) -> list[str]:
    """The fixed parts of a translated message with placeholders (values filled in at run time)."""
    text = idn(msgid, translated=translated)
    return [squash(part) for part in PLACEHOLDER.split(text) if len(squash(part).strip(" .,:;\"'“”()")) >= 4]


def assert_message(shown: str, msgid: str, *, translated: bool = True) -> None:
    """``shown`` reads as the Indonesian ``msgid`` whatever values it carries."""
    shown = squash(shown)
    parts = fragments(msgid, translated=translated)
    assert parts, f"no fixed text in {msgid!r}"
    for part in parts:
        assert part in shown, f"expected {part!r} (from {msgid!r}) in {shown!r}"


@dataclass
class ConsoleWatch:
    """Every console error and uncaught exception of a page (CSP violations are console errors)."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page) -> ConsoleWatch:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        return self

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        # Chromium asks every site for /favicon.ico by itself; the app has none.
        if url.endswith("/favicon.ico"):
            return
        self.errors.append(f"{message.text} ({url})")

    def assert_clean(self) -> None:
        assert self.errors == [], f"browser console errors: {self.errors}"


class BackgroundWorker:
    """The task worker (``manage.py db_worker``) of production, run once: every queued task, then exit."""

    SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]

    def run(self) -> None:
        # The worker installs its own signal handlers; give pytest its own back.
        saved = {number: signal.getsignal(number) for number in self.SIGNALS}
        try:
            call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())
        finally:
            for number, handler in saved.items():
                signal.signal(number, handler)


def switch_user(page, live_server, username: str, password: str = DEMO_PASSWORD) -> None:
    """End the current session (as closing the browser would) and sign in through the login form."""
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    tools = page.locator("#user-tools")
    assert tools.is_visible(), f"{username} could not sign in: {squash(page.inner_text('body'))[:300]}"
    assert squash(tools.inner_text()).upper().startswith(idn("Welcome,").upper())


def txt(page, selector: str) -> str:
    """The text of an element as written in the page (CSS may show it in capitals)."""
    return squash(page.locator(selector).first.text_content() or "")


def texts(page, selector: str) -> list[str]:
    return [squash(text) for text in page.locator(selector).all_text_contents()]


def content_text(page) -> str:
    return txt(page, "#content")


def save_download(download, folder: Path) -> Path:
    target = folder / download.suggested_filename
    download.save_as(str(target))
    return target
