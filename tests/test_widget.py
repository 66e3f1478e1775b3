"""The chat page and the embeddable widget in a real headless Chromium (Debian's, driven by Playwright):
a question typed and answered with its citation highlighted, a follow-up, an abstention, the widget on
a foreign host page whose CSS tries to reach it, and a phone-sized screen."""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from conftest import ROOT, Server, free_port, run_cli

KEY = "widget-key"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

# Skipped on a developer's machine without Chromium; never in CI, where scripts/test.sh installs it.
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                                reason="Debian's chromium is not installed (scripts/test.sh installs it as root)")

HOST_PAGE = """<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1">
<style>* {{ color: rgb(255, 0, 0) !important; font-size: 40px !important; }} button {{ display: none !important; }}
input {{ visibility: hidden !important; }}</style></head>
<body><h1>Acme support</h1><p>Questions? Use the chat bubble.</p>
<script src="{bot}/widget.js" data-api-key="{key}" data-title="Ask Acme" defer></script></body></html>"""


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """A support site on another origin: a static page that embeds the widget with one script tag."""
    folder = tmp_path_factory.mktemp("host")
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{port}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def bot(serve_index, host):
    s = Server(serve_index, {"QA_API_KEY": KEY, "QA_CORS_ORIGINS": host[1]})
    (host[0] / "index.html").write_text(HOST_PAGE.format(bot=s.url, key=KEY), encoding="utf-8")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def ask(page, question: str, n: int):
    """Type a question, press Enter, wait for the n-th bot reply; the typing indicator shows meanwhile."""
    box = page.locator("#qa-bot-widget input[name=question]")
    box.fill(question)
    box.press("Enter")
    page.locator("#qa-bot-widget .msg.user").nth(n - 1).wait_for()
    reply = page.locator("#qa-bot-widget .msg.bot:not(.typing)").nth(n - 1)
    reply.wait_for(timeout=120_000)
    return reply


def test_the_chat_page_answers_cites_and_follows_up(bot, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(f"{bot.url}/#key={KEY}")
    box = page.locator("#qa-bot-widget input[name=question]")
    box.fill("When does mass production start?")
    box.press("Enter")
    page.locator("#qa-bot-widget .typing").wait_for()         # the typing indicator while waiting
    reply = page.locator("#qa-bot-widget .msg.bot:not(.typing)").first
    reply.wait_for(timeout=120_000)
    assert "2024" in reply.locator(".answer").inner_text()
    mark = reply.locator(".sources li").first.locator("mark")
    assert "2024" in mark.inner_text()                         # the answer highlighted in its sentence
    assert page.locator("#qa-bot-widget .typing").count() == 0
    focused = page.evaluate("window.qaBotWidget.root.activeElement && window.qaBotWidget.root.activeElement.name")
    assert focused == "question"                               # focus kept for the next question
    link = reply.locator(".sources li").first.locator("a.doc")
    assert link.inner_text().endswith(".txt") and "/" not in link.inner_text()
    source_page = browser.new_page()
    source_page.goto(link.get_attribute("href"))                # opens with no key: the link is signed
    assert "2024" in source_page.locator("mark#passage").inner_text()
    source_page.close()
    reply.locator(".rate button[data-rating=down]").click()    # thumbs down: kept for the next gold file
    assert reply.locator(".rate .thanks").inner_text(timeout=30_000) == "Thanks for the feedback."
    fix = reply.locator("form.fix input[name=correction]")       # and, if the customer likes, the right answer
    fix.fill("in the first half of 2024, in Beijing")
    fix.press("Enter")
    assert reply.locator(".rate.thanks").inner_text(timeout=30_000) == "Thanks, the answer will be looked at."
    kept = run_cli("feedback", "--json", "--index-dir", str(bot.index_dir))
    rows = [json.loads(line) for line in kept.stdout.splitlines() if json.loads(line)["question"] == "When does mass production start?"]
    assert [r["correction"] for r in rows] == ["in the first half of 2024, in Beijing"]  # the rating replaced, not repeated

    ask(page, "What was the revenue for 2021?", 2)
    follow = ask(page, "And the adjusted net profit?", 3)
    assert follow.locator(".answer").count() == 1 or follow.locator(".none").count() == 1
    none = ask(page, "Which company will supply the batteries?", 4)
    assert none.locator(".none").inner_text() == "The documents do not answer this."
    shot = Path(os.environ.get("QA_WIDGET_SCREENSHOT", tmp_path / "chat-page.png"))
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    page.close()


def test_the_widget_on_a_foreign_page_is_untouched_by_its_css(bot, host, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.goto(host[1] + "/index.html")
    bubble = page.locator("#qa-bot-widget .bubble")
    bubble.wait_for()
    assert bubble.is_visible()                                 # the host's `button {display: none}` does not reach it
    bubble.click()
    panel = page.locator("#qa-bot-widget .panel")
    assert panel.is_visible()
    assert page.locator("#qa-bot-widget header span").inner_text() == "Ask Acme"
    reply = ask(page, "Who is the CEO of the Xiaomi car company?", 1)   # across origins, with the API key
    assert "Lei Jun" in reply.locator(".answer").inner_text()
    color = reply.locator(".answer").evaluate("e => getComputedStyle(e).color")
    assert color != "rgb(255, 0, 0)"
    assert page.locator("h1").evaluate("e => getComputedStyle(e).color") == "rgb(255, 0, 0)"  # host styles stay the host's
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    page.screenshot(path=str(tmp_path / "embedded.png"))
    page.close()


def test_the_widget_fits_a_phone_screen(bot, host, browser):
    page = browser.new_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page.goto(host[1] + "/index.html")
    page.locator("#qa-bot-widget .bubble").click()
    box = page.locator("#qa-bot-widget .panel").bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 667
    reply = ask(page, "When does mass production start?", 1)
    assert "2024" in reply.inner_text()
    page.close()


def test_the_api_docs_page_renders_its_operations_with_a_key_set(bot, browser):
    """/docs works from a browser with QA_API_KEY set: Swagger UI (bundled, no network) reads the
    OpenAPI 3.1 document and lists the operations (Swagger UI 4 showed an error instead)."""
    page = browser.new_page()
    try:
        page.goto(bot.url + "/docs")
        page.locator(".opblock").first.wait_for(timeout=60_000)
        text = page.inner_text("body")
        assert "/v1/ask" in text and "/v1/chat/completions" in text
        assert page.locator(".errors-wrapper").count() == 0
    finally:
        page.close()


def test_the_admins_page_shows_what_the_documents_do_not_answer(bot, browser):
    """/unanswered: the content-gap report in a browser, behind the admin key (the page holds nothing)."""
    import httpx

    for q in ("Does the Xiaomi car have a heated steering wheel?", "Is there a heated steering wheel in the Xiaomi car?"):
        assert httpx.post(bot.url + "/v1/ask", json={"question": q}, headers={"Authorization": f"Bearer {KEY}"},
                          timeout=120).json()["abstained"]
    page = browser.new_page()
    try:
        page.goto(f"{bot.url}/unanswered#key={KEY}")
        first = page.locator(".gap").first
        first.wait_for(timeout=60_000)
        groups = page.locator(".gap h2").all_inner_texts()
        wheel = next(g for g in groups if "steering wheel" in g)
        assert wheel.startswith("2") and page.locator(".gap .near a").first.get_attribute("href").startswith("/v1/documents/")
        page.goto(f"{bot.url}/unanswered#key=wrong-key")
        page.evaluate("sessionStorage.clear()")
        page.reload()
        page.locator("#status").filter(has_text="Could not load").wait_for(timeout=30_000)
        assert page.locator(".gap").count() == 0
    finally:
        page.close()
