"""Embedded Redis and MongoDB for `mediabot dev`: real servers as subprocesses, data kept on disk.

A service whose URI is already in the environment (``MEDIABOT_REDIS_URL``,
``MEDIABOT_MONGO_URI``) is used as it is; the others are started here with
their data under the dev directory, so the catalogue survives a restart of
the console. ``--mongo-env VAR`` asks for one more MongoDB whose URI goes
into ``VAR`` (a plugin such as dbrouter reads its databases' URIs so).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mediabot.core.errors import ResourceError


class EmbeddedServices:
    """Starts what the environment does not provide; stops what it started."""

    def __init__(self, root: Path, env: dict[str, str], *, extra_mongo: tuple[str, ...] = ()) -> None:
        self.root = root
        self.env = env
        self.extra_mongo = extra_mongo
        self._servers: list[object] = []

    def start(self) -> dict[str, str]:
        """Start missing services; return the URIs to add to the environment."""
        try:
            from mediabot.testing.servers import MongoServer, RedisServer, ServerStartError
        except ImportError as exc:  # pragma: no cover - only without the dev dependencies
            raise ResourceError(f"embedded services unavailable ({exc}); run `uv sync` to install "
                                "the dev dependencies, or set MEDIABOT_REDIS_URL and MEDIABOT_MONGO_URI") from None
        added: dict[str, str] = {}
        try:
            if not self.env.get("MEDIABOT_REDIS_URL"):
                redis = RedisServer(data_dir=self.root / "redis").start()
                self._servers.append(redis)
                added["MEDIABOT_REDIS_URL"] = redis.url
            # sync_on_commit: what the console acknowledged is on disk even after kill -9.
            wanted = {var: self.root / ("mongo" if var == "MEDIABOT_MONGO_URI" else f"mongo-{var.lower()}")
                      for var in ("MEDIABOT_MONGO_URI", *self.extra_mongo) if not self.env.get(var)}
            with ThreadPoolExecutor(max(1, len(wanted))) as pool:  # each takes seconds to come up
                futures = {var: pool.submit(MongoServer(data_dir=d, sync_on_commit=True).start)
                           for var, d in wanted.items()}
            failures = []
            for var, future in futures.items():
                try:
                    server = future.result()
                except ServerStartError as exc:
                    failures.append(exc)
                    continue
                self._servers.append(server)  # stopped below if another one failed
                added[var] = server.uri
            if failures:
                raise failures[0]
        except ServerStartError as exc:
            self.stop()
            raise ResourceError(f"could not start an embedded server: {exc}") from None
        return added

    def stop(self) -> None:
        while self._servers:
            self._servers.pop().stop()  # type: ignore[attr-defined]
