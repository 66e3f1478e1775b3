"""The chat program in a real pseudo-terminal: follow-ups, Ctrl-C on a half-typed line, Ctrl-D."""
import os
import re
import sys
import time

import pexpect

from conftest import ROOT


def test_chat_conversation_in_a_terminal(seed_index, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TERM="xterm", QA_DATA_DIR=str(tmp_path))
    child = pexpect.spawn(sys.executable, [str(ROOT / "cli.py"), "chat", "--index-dir", str(seed_index)],
                          env=env, encoding="utf-8", timeout=180, dimensions=(40, 120))
    child.expect("you>")
    for q, want in [("Who is the CEO of the Xiaomi car company?", r"Lei Jun"),
                    ("How many electric vehicle companies has he invested in?", r"nearly 10"),
                    ("/why", r"Lei Jun invested[\s\S]*strongest signals")]:
        child.sendline(q)
        child.expect(want)
        child.expect("you>")
    child.send("When does mass")
    child.expect("mass")
    child.sendintr()
    time.sleep(1.0)  # let the line editor redraw an empty prompt before Ctrl-D
    child.expect("you>")
    assert child.isalive()
    child.sendeof()
    child.expect(pexpect.EOF, timeout=30)
    assert "Traceback" not in (child.before or "")
    assert (tmp_path / "chat_history").exists()
