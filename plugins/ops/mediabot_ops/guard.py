"""Bounds on the ops HTTP server's connections: how many are open, and how long a request may take to arrive.

A client that opens a connection and sends half a request (or nothing) would
otherwise hold a file descriptor forever; enough of them exhaust the
process's descriptors, and then its Redis and MongoDB connections fail too.
Two bounds stop that:

- the header timeout: aiohttp closes a connection on which no complete
  request has arrived within ``keepalive_timeout`` seconds of its opening
  (or of the previous response), however slowly bytes trickle in;
- the cap: beyond ``cap`` open connections, a new one is closed as soon as
  it is accepted, before anything is read from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

__all__ = ["CappedSite"]


class _Gate:
    """Open connections of one site, and what is done with those beyond the cap."""

    def __init__(self, cap: int, on_refused: Callable[[], None]) -> None:
        self.cap = cap
        self.open = 0
        self.on_refused = on_refused


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, admitted only while the gate has room."""

    def __init__(self, inner: Any, gate: _Gate) -> None:
        self._inner = inner
        self._gate = gate
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._gate.open >= self._gate.cap:
            # Closed before a byte is read: the descriptor is back at once.
            transport.abort()
            self._gate.on_refused()
            return
        self._admitted = True
        self._gate.open += 1
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._admitted:
            self._admitted = False
            self._gate.open -= 1
            self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        if self._admitted:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self._inner.resume_writing()


class CappedSite(web.BaseSite):
    """``web.TCPSite`` with at most ``cap`` open connections (see the module's docstring).

    :param on_refused: called for each connection closed because the cap was reached.
    """

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, cap: int,
                 on_refused: Callable[[], None] = lambda: None) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._gate = _Gate(cap, on_refused)

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def open_connections(self) -> int:
        return self._gate.open

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Guarded(server(), self._gate), self._host, self._port,
            backlog=self._backlog, reuse_address=True)
