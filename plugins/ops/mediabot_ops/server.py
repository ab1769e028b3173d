"""``/healthz``, ``/readyz`` and ``/metrics`` over HTTP, served in the bot's own event loop.

aiohttp's server runs on the loop the bot already has: no thread, no second
loop, and its lifecycle is two awaits (``AppRunner.setup`` and
``cleanup``) in the plugin's startup and shutdown hooks. See docs/ops.md.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mediabot import App, HealthReport
from mediabot_ops.config import ListenAddress
from mediabot_ops.guard import CappedSite
from mediabot_ops.health import Snapshot

__all__ = ["OpsServer"]

log = logging.getLogger("mediabot.plugin.ops")

Check = Callable[[], Awaitable[Snapshot]]


class OpsServer:
    """The operator's HTTP endpoints of one app.

    :param app: the bot (its metrics registry is exposed as it is at each scrape).
    :param address: where to bind.
    :param token: when set, ``/metrics`` and ``/readyz`` require ``Authorization: Bearer <token>``.
    :param check: returns the current health :class:`Snapshot`.
    """

    def __init__(self, app: App, address: ListenAddress, *, token: str | None, check: Check,
                 header_timeout: float = 10.0, max_connections: int = 100) -> None:
        self._app = app
        self._address = address
        self._header_timeout = header_timeout
        self._max_connections = max_connections
        self._site: CappedSite | None = None
        self._token = token.encode() if token else None
        self._check = check
        self._runner: web.AppRunner | None = None
        self._requests = app.metrics.counter("mediabot_ops_http_requests_total",
                                             "Requests to the ops HTTP endpoints", ["path", "code"])
        self._refused = app.metrics.counter("mediabot_ops_http_refused_connections_total",
                                            "Connections to the ops HTTP endpoints closed at once: the cap was "
                                            "reached")
        #: the port actually bound (differs from the configured one when that is 0)
        self.port: int | None = None

    async def start(self) -> None:
        web_app = web.Application()
        web_app.router.add_get("/healthz", self._healthz)
        web_app.router.add_get("/readyz", self._guarded(self._readyz))
        web_app.router.add_get("/metrics", self._guarded(self._metrics))
        # No access log: a scraper every few seconds would drown the bot's own lines.
        # keepalive_timeout: a connection with no complete request that long is closed
        # (aiohttp arms it when the connection opens, not only between requests).
        runner = web.AppRunner(web_app, access_log=None, handle_signals=False,
                               keepalive_timeout=self._header_timeout)
        await runner.setup()
        try:
            site = CappedSite(runner, self._address.host, self._address.port, cap=self._max_connections,
                              on_refused=self._refused.inc)
            await site.start()
            self._site = site
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("ops endpoints on http://%s:%d (/healthz, /readyz, /metrics)", self._host_label(), self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def open_connections(self) -> int:
        """Connections open now (at most ``max_connections``)."""
        return self._site.open_connections if self._site is not None else 0

    def _host_label(self) -> str:
        host = self._address.host
        return f"[{host}]" if ":" in host else host

    # -- endpoints --------------------------------------------------------------
    async def _healthz(self, _request: web.Request) -> web.Response:
        return self._count("/healthz", web.json_response({"alive": True}))

    async def _readyz(self, _request: web.Request) -> web.Response:
        snapshot = await self._check()
        body = {
            "ready": snapshot.ready,
            "not_ready": [_as_dict(r) for r in snapshot.not_ready],
            "components": [_as_dict(r) for r in snapshot.components],
        }
        return self._count("/readyz", web.json_response(body, status=200 if snapshot.ready else 503))

    async def _metrics(self, _request: web.Request) -> web.Response:
        # generate_latest walks the registry synchronously; it is quick (in-memory
        # values), so it runs on the loop rather than paying for a thread hop.
        text = generate_latest(self._app.metrics.registry)
        response = web.Response(body=text)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return self._count("/metrics", response)

    # -- plumbing ---------------------------------------------------------------
    def _guarded(self, handler: Callable[[web.Request], Awaitable[web.Response]]
                 ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def guarded(request: web.Request) -> web.Response:
            if self._token is not None and not self._authorized(request):
                return self._count(request.path, web.json_response(
                    {"error": "missing or wrong bearer token"}, status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="mediabot-ops"'}))
            return await handler(request)

        return guarded

    def _authorized(self, request: web.Request) -> bool:
        assert self._token is not None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        # Constant time: the comparison must not tell an attacker how much of a guess was right.
        # aiohttp decodes header bytes that are not UTF-8 as surrogates; they encode back to
        # the bytes sent (a wrong token, never an error).
        return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), self._token)

    def _count(self, path: str, response: web.Response) -> web.Response:
        self._requests.labels(path=path, code=str(response.status)).inc()
        return response


def _as_dict(report: HealthReport) -> dict[str, str]:
    return msgspec.to_builtins(report)
