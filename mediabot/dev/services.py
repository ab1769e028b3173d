"""Embedded Redis and MongoDB for `mediabot dev`: real servers as subprocesses, data kept on disk.

A service whose URI is already in the environment (``MEDIABOT_REDIS_URL``,
``MEDIABOT_MONGO_URI``) is used as it is; the others are started here with
their data under the dev directory, so the catalogue survives a restart of
the console.
"""

from __future__ import annotations

from pathlib import Path

from mediabot.core.errors import ResourceError


class EmbeddedServices:
    """Starts what the environment does not provide; stops what it started."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
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
            if not self.env.get("MEDIABOT_MONGO_URI"):
                # sync_on_commit: what the console acknowledged is on disk even after kill -9.
                mongo = MongoServer(data_dir=self.root / "mongo", sync_on_commit=True).start()
                self._servers.append(mongo)
                added["MEDIABOT_MONGO_URI"] = mongo.uri
        except ServerStartError as exc:
            self.stop()
            raise ResourceError(f"could not start an embedded server: {exc}") from None
        return added

    def stop(self) -> None:
        while self._servers:
            self._servers.pop().stop()  # type: ignore[attr-defined]
