"""uvicorn's h11 protocol with what a server in front of customers needs below the application: a
deadline for a request's headers (a client that opens connections and trickles its headers, or sends
nothing, holds none for longer than QA_READ_TIMEOUT; uvicorn itself waits forever), and a JSON error
instead of plain text for bytes that are not HTTP. Bodies and everything above are the Guard's."""
from __future__ import annotations


import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..config import ServeSettings
from .guard import error_body


def raw_error(status: int, reason: str, message: str, kind: str) -> bytes:
    """A whole HTTP/1.1 response, written straight to the socket (no request was read to answer)."""
    body = error_body(status, message, kind)
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n").encode() + body


class GuardedH11(H11Protocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_timeout = ServeSettings().read_timeout
        self._deadline = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._deadline is None:
            self._arm()  # the next request of a kept-alive connection starts arriving
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # its headers are in

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._disarm()
        self.transport.write(raw_error(400, "Bad Request", "the request is not valid HTTP/1.1.", "bad_request"))
        self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_late(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(raw_error(408, "Request Timeout",
                                           f"the request's headers did not arrive within {self.header_timeout:g} s.",
                                           "request_timeout"))
        self.transport.close()
