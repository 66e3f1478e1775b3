"""An opt-in stall watchdog for the server's event loop (`QA_STALL_MS`): when the loop has not run for
that long, every thread's stack is written out. It names what held the loop up, on the loop itself or
on a thread holding the GIL: how the last /healthz stalls of issue 29 were found (spaCy's vocabulary
loaded by the first conversation; FastAPI's routes and OpenAPI document made by the first requests).

The watching thread needs the GIL to look, so a C call that holds the GIL throughout is seen just
after it returns; faulthandler's timer, which needs no GIL, reads the other threads' frames while they
change and crashed the server once in a run of 2,000 requests."""
from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback
from typing import Callable


def watch(loop: asyncio.AbstractEventLoop, stall_ms: float, path: str | None = None) -> Callable[[], None]:
    """Watch `loop`: it marks the time every quarter of `stall_ms`, a thread of ours looks as often, and
    a mark older than `stall_ms` gets every thread's stack written, once for each stall, to `path`
    (stderr when None). Returns the function that stops it."""
    out = open(path, "a", buffering=1) if path else sys.stderr  # noqa: SIM115 - open while the server runs
    out.write(f"stall watchdog: the stacks of an event loop held up over {stall_ms:g} ms\n")
    every = stall_ms / 4000
    state = {"beat": time.monotonic(), "told": False, "timer": None}
    stopped = threading.Event()
    loop_thread = threading.get_ident()

    def beat() -> None:
        state["beat"], state["told"] = time.monotonic(), False
        state["timer"] = loop.call_later(every, beat)

    def look() -> None:
        while not stopped.wait(every):
            held = (time.monotonic() - state["beat"]) * 1000
            if held > stall_ms and not state["told"]:
                state["told"] = True
                out.write(f"stall: the event loop held up {held:.0f} ms at {time.strftime('%H:%M:%S')}\n"
                          + "".join(_stacks(loop_thread)) + "\n")

    beat()
    threading.Thread(target=look, name="qa-stall-watchdog", daemon=True).start()

    def stop() -> None:
        stopped.set()
        state["timer"].cancel()

    return stop


def _stacks(loop_thread: int) -> list[str]:
    names = {t.ident: t.name for t in threading.enumerate()}
    me = threading.get_ident()
    return [f"Thread {names.get(ident, ident)}{' (the event loop)' if ident == loop_thread else ''}:\n"
            + "".join(traceback.format_stack(frame)) for ident, frame in sys._current_frames().items() if ident != me]
