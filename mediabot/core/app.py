"""The application: one composed deployment, from start to graceful stop.

Start: open resources -> database provider -> plugin startup hooks in
dependency order -> collect commands -> start the Telegram gateway.
Stop (SIGTERM/SIGINT or :meth:`App.stop`): stop taking updates -> drain
in-flight work within ``runtime.shutdown_deadline`` (cancel and report the
rest) -> plugin shutdown hooks in reverse order -> cancel background tasks ->
close the gateway and resources. A second signal exits at once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

from redis.exceptions import RedisError

from mediabot.catalog.changes import ChangeFeed
from mediabot.core.admission import Admission
from mediabot.core.autodelete import require_redis
from mediabot.core.clock import Clock, MonotonicClock
from mediabot.core.commands import Command
from mediabot.core.compose import Composition, check_secrets
from mediabot.core.config import (
    BotSection,
    CatalogSection,
    DeliverySection,
    MongoSection,
    RedisSection,
    RoutingSection,
    RuntimeSection,
    ServicesSection,
)
from mediabot.core.delivery import Delivery
from mediabot.core.dispatch import Dispatcher
from mediabot.core.errors import ConfigError, PluginLoadError, PluginStartupError, ResourceError, mask_url
from mediabot.core.gates import Gates
from mediabot.core.host import Hooks, PluginHookFailed, PluginHost
from mediabot.core.interfaces import RateLimits, Sessions, Telegram
from mediabot.core.iohold import IoObserver, mongo_listeners
from mediabot.core.jobs import Jobs
from mediabot.core.local_services import LocalRateLimiter, LocalSessionStore
from mediabot.core.metrics import Metrics
from mediabot.core.notices import Notices
from mediabot.core.periodic import Periodic
from mediabot.core.plugin import PluginContext, PluginMeta
from mediabot.core.plugin_storage import PluginStorage
from mediabot.core.storage import DatabaseProvider, SingleDatabase
from mediabot.core.supervisor import DrainReport, SupervisorClosed, TaskSupervisor
from mediabot.core.telegram.config import TelegramSection
from mediabot.core.types import Button, HealthReport, Update

if TYPE_CHECKING:  # heavy (pyrogram, pymongo) or circular at run time
    from pymongo import AsyncMongoClient
    from redis.asyncio import Redis

    from mediabot.catalog.files import FileRepository
    from mediabot.catalog.users import UserDirectory
    from mediabot.core.redis.health import RedisHealth
    from mediabot.core.telegram.gateway import Gateway

log = logging.getLogger("mediabot.app")
State = Literal["created", "starting", "running", "stopping", "stopped"]


class App:
    """A running deployment.

    :param composition: the outcome of :func:`mediabot.core.compose.compose`.
    :param env: where secrets are read from (default ``os.environ``).
    :param gateway: the Telegram gateway (production adapter or the fake);
        ``None`` runs without Telegram (CLI tools, some tests).
    :param telegram_secrets: require Telegram credentials (``mediabot run``).
    :param require_secrets: check secrets now; ``False`` only for apps built to
        inspect plugins, never started.
    :param clock: the app's time (default: real time).
    :param io_observer: told when each Redis and MongoDB call starts and ends
        (see :mod:`mediabot.core.iohold`); the testing kit passes its virtual
        clock, production none.
    """

    def __init__(self, composition: Composition, *, env: Mapping[str, str] | None = None,
                 gateway: Gateway | None = None, telegram_secrets: bool = False, require_secrets: bool = True,
                 force_exit: Callable[[int], None] = os._exit, clock: Clock | None = None,
                 io_observer: IoObserver | None = None) -> None:
        self.composition = composition
        #: the app's time: plugins sleep and read time through it (a test's ``FakeClock`` drives them)
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self._io_observer = io_observer
        self.config = composition.raw
        self.env = dict(os.environ if env is None else env)
        # ``require_secrets=False`` builds an app only to inspect plugins (CLI listing).
        self.secrets = check_secrets(composition, self.env, telegram=telegram_secrets,
                                     embedded=not require_secrets) if require_secrets else {}
        if require_secrets:
            require_redis(self.section("delivery"), self.env)
        #: the app's metrics (Prometheus registry of its own): ``app.metrics.counter(name, doc, labels)``
        self.metrics: Metrics = Metrics()
        self.host = PluginHost(self.metrics)
        #: the Telegram gateway; ``None`` without Telegram (plugins use :attr:`telegram`)
        self.gateway: Gateway | None = gateway
        self.state: State = "created"
        #: the shared Redis client (``redis.asyncio.Redis``); ``None`` without ``MEDIABOT_REDIS_URL``
        self.redis: Redis | None = None
        #: the MongoDB client of ``MEDIABOT_MONGO_URI``; ``None`` without it (dbrouter brings its own)
        self.mongo: AsyncMongoClient[dict[str, Any]] | None = None
        #: where catalogue data lives (the default single database, or a provider plugin's)
        self.database: DatabaseProvider | None = None
        self.commands: list[tuple[str, Command]] = []
        self.dispatcher = Dispatcher(self)
        #: gates plugins put before actions (``await app.gates.check(user, "search")``)
        self.gates: Gates = Gates(self)
        #: the one way catalogue files reach users (``await app.delivery.send(user, files)``)
        self.delivery: Delivery = Delivery(self)
        #: rate-limited messages to the operators (``app.notices.notify(key, text)``)
        self.notices: Notices = Notices(self)
        #: the plugins' periodic jobs (``ctx.every``), started with the app, reported in :meth:`health`
        self.periodic: Periodic = Periodic(self.clock, self.metrics)
        # Set at startup by kernel.catalog (mediabot/catalog/plugin.py) when the app has a database.
        #: the catalogue's files; ``None`` without a database
        self.files: FileRepository | None = None
        #: the user directory (bans, last seen); ``None`` without a database
        self.users: UserDirectory | None = None
        #: the catalogue's change stream (``None`` unless the app has Redis and a database)
        self.changes: ChangeFeed | None = None
        # In process until kernel.services (mediabot/core/services.py) puts the Redis
        # versions in their place at startup, when the deployment has Redis.
        services = self.section("services")
        #: per-user rate limits (``await app.ratelimiter.check(key, Rate.parse("5/10s"))``)
        self.ratelimiter: RateLimits = LocalRateLimiter(services.fallback_size)
        #: per-user sessions (``app.sessions.namespace(kind)``)
        self.sessions: Sessions = LocalSessionStore(ttl=services.session_ttl, max_entries=services.fallback_size)
        #: Redis reachability shared by the Redis services; ``None`` without Redis
        self.redis_health: RedisHealth | None = None
        self.started: list[str] = []
        self.kernel_started: list[str] = []
        self.disabled: dict[str, str] = {}
        self.last_drain: DrainReport | None = None
        self._force_exit = force_exit
        self._stop_requested: asyncio.Event | None = None
        self._supervisor: TaskSupervisor | None = None
        self._crashes = self.metrics.counter("mediabot_task_crashes_total",
                                             "Supervised tasks that ended with an exception", ["owner"])
        self._cancelled = self.metrics.counter("mediabot_shutdown_cancelled_total",
                                               "In-flight work cancelled at the shutdown deadline")
        self._updates = self.metrics.counter("mediabot_updates_total", "Updates received", ["kind"])
        dropped = self.metrics.counter("mediabot_updates_dropped_total",
                                       "Updates dropped by the admission limits", ["reason"])
        runtime = self.section("runtime")
        self._admission = Admission(self._start_update, max_in_flight=runtime.max_in_flight,
                                    max_waiting=runtime.max_waiting, per_user=runtime.max_in_flight_per_user,
                                    per_user_waiting=runtime.max_waiting_per_user,
                                    on_drop=lambda reason: dropped.labels(reason=reason).inc())
        self.instances: dict[str, object] = {}
        self._storages: dict[str, PluginStorage] = {}
        #: calls hooks, the kernel's and those plugins publish (``app.hooks.collect(...)``)
        self.hooks: Hooks = Hooks(self.host)
        for sel in composition.plugins:  # published hooks first: any plugin may implement them
            if sel.meta.hookspecs is not None:
                self.host.add_hookspecs(sel.meta.name, sel.meta.hookspecs)
        # Kernel features (command registry, user directory, ...) are plugins too,
        # registered first under "kernel.<name>": they start first and stop last.
        self.kernel_plugins: list[str] = []
        for factory in kernel_plugin_factories():
            kp = factory(self)
            name = f"kernel.{kp.name}"
            self.host.register(name, kp)
            self.instances[name] = kp
            self.kernel_plugins.append(name)
        for sel in composition.plugins:
            name = sel.meta.name
            ctx = PluginContext(name=name, config=sel.config, log=logging.getLogger(f"mediabot.plugin.{name}"),
                                app=self, secrets={s.env: self.env[s.env] for s in sel.meta.secrets
                                                   if s.env in self.env})
            try:
                instance = sel.factory(ctx)
            except ConfigError:
                raise
            except Exception as exc:
                raise PluginLoadError(name, f"constructor failed: {type(exc).__name__}: {exc}") from exc
            self.host.register(name, instance)
            self.instances[name] = instance

    # -- accessors -----------------------------------------------------------------
    @property
    def supervisor(self) -> TaskSupervisor:
        if self._supervisor is None:
            raise RuntimeError("the supervisor exists once the app is started")
        return self._supervisor

    @overload
    def section(self, name: Literal["bot"]) -> BotSection: ...
    @overload
    def section(self, name: Literal["runtime"]) -> RuntimeSection: ...
    @overload
    def section(self, name: Literal["redis"]) -> RedisSection: ...
    @overload
    def section(self, name: Literal["mongo"]) -> MongoSection: ...
    @overload
    def section(self, name: Literal["catalog"]) -> CatalogSection: ...
    @overload
    def section(self, name: Literal["delivery"]) -> DeliverySection: ...
    @overload
    def section(self, name: Literal["services"]) -> ServicesSection: ...
    @overload
    def section(self, name: Literal["telegram"]) -> TelegramSection: ...
    @overload
    def section(self, name: Literal["routing"]) -> RoutingSection: ...
    @overload
    def section(self, name: str) -> Any: ...
    def section(self, name: str) -> Any:
        """A validated kernel section of the config (``bot``, ``runtime``, ...), typed by its name."""
        return self.config.section(name)

    @property
    def telegram(self) -> Telegram:
        """The Telegram gateway plugins send and read through (raises without Telegram)."""
        if self.gateway is None:
            raise RuntimeError("this app runs without a Telegram gateway")
        return self.gateway

    @property
    def data_dir(self) -> Path:
        """``[runtime] data_dir``, relative to the directory of ``plugins.toml`` (or the working directory)."""
        path = Path(self.section("runtime").data_dir).expanduser()
        if not path.is_absolute():
            base = self.config.path.parent if self.config.path is not None else Path.cwd()
            path = base / path
        return path

    def mongo_client_options(self) -> dict[str, Any]:
        """Options for an ``AsyncMongoClient`` a plugin makes itself, so its commands are observed like the app's.

        Pass them on: ``AsyncMongoClient(uri, tz_aware=True, **app.mongo_client_options())``.
        Today they carry the app's command listeners (``event_listeners``), if any.
        """
        return {"event_listeners": mongo_listeners(self._io_observer)}

    def storage(self, plugin: str) -> PluginStorage:
        """The storage handle of ``plugin`` (the same one its ``ctx.storage`` returns)."""
        found = self._storages.get(plugin)
        if found is None:
            found = self._storages[plugin] = PluginStorage(self, plugin)
        return found

    def jobs(self, plugin: str) -> Jobs:
        """The jobs of ``plugin`` (the same handle its ``ctx.jobs`` returns), in ``<plugin>.jobs``."""
        storage = self.storage(plugin)
        return Jobs(lambda: storage.collection("jobs"), lambda: float(self.clock.wall().timestamp()))

    def button(self, user_id: int | None, text: str, action: str, *args: object) -> Button:
        """A signed button for ``action`` made outside a handler (e.g. in ``mediabot_update``).

        :param user_id: only this user may press it; ``None``: anyone.
        Same as ``ctx.button`` (see :class:`mediabot.Callback`).
        """
        return Button(text=text, callback=self.dispatcher.signer.sign(action, args, user_id=user_id))

    def deep_link(self, action: str, *args: object) -> str:
        """A signed ``t.me`` link that opens the bot's private chat with ``/start`` (see ``ctx.deep_link``)."""
        me = getattr(self.gateway, "me", None)
        username = getattr(me, "username", None)
        if not username:
            raise RuntimeError("the bot's username is known once the gateway has started")
        return f"https://t.me/{username}?start={self.dispatcher.signer.sign_link(action, args)}"

    def plugin(self, name: str) -> Any:  # Any: a plugin's class is its own
        """The instance of an enabled plugin (for tests and tools)."""
        return self.instances[name]

    def role_of(self, user_id: int) -> Literal["user", "admin", "owner"]:
        bot = self.section("bot")
        if bot.owner is not None and user_id == bot.owner:
            return "owner"
        return "admin" if user_id in bot.admins else "user"

    # -- lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        """Start everything; on failure, undo what was started and raise."""
        self._begin("start")
        try:
            await self._open_resources()
            await self._check_reachable()
            self.database = await self._database_provider()
            order = self.kernel_plugins + [p.meta.name for p in self.composition.plugins]
            async for name, err in self._start_plugins(order):
                if err is None:
                    self.started.append(name)
                elif self._meta(name).optional:
                    log.warning("optional plugin %s failed to start and is disabled: %s", name, err)
                    self.disabled[name] = f"{type(err).__name__}: {err}"
                    self.host.unregister(name)
                else:
                    raise PluginStartupError(name, err)
            for name in order:  # plugins without a startup hook are started too
                if name not in self.started and name not in self.disabled:
                    self.started.append(name)
            self.started.sort(key=order.index)
            # ``started`` lists the deployment's plugins; the kernel's own are always there.
            self.kernel_started = [n for n in self.started if n in self.kernel_plugins]
            self.started = [n for n in self.started if n not in self.kernel_plugins]
            self.commands = self._collect_commands(await self.host.collect("mediabot_commands", app=self))
            await self.dispatcher.prepare()
            self.periodic.start(self.supervisor, self.started)
            # Running before the gateway starts: updates Telegram delivers as soon as
            # the client connects are handled, not dropped.
            self.state = "running"
            if self.gateway is not None:
                await self.gateway.start(self)
                await self.dispatcher.publish_menus()
        except BaseException:
            await self._teardown(drain=False)
            raise
        log.info("started with plugins: %s", ", ".join(self.started) or "(none)")

    def _begin(self, what: str) -> None:
        if self.state != "created":
            raise RuntimeError(f"cannot {what} an app that is {self.state}")
        self.state = "starting"
        self._stop_requested = asyncio.Event()
        self._supervisor = TaskSupervisor(on_crash=lambda owner, _n, _e: self._crashes.labels(owner).inc(),
                                          sleep=self.clock.sleep)

    async def _start_plugins(self, order: list[str]) -> AsyncIterator[tuple[str, BaseException | None]]:
        """Each plugin in order: its declared indexes, then its ``mediabot_startup``."""
        for name in order:
            storage = self._storages.get(name)
            if storage is not None and storage.declared_indexes:
                try:
                    await storage.ensure_indexes()
                except Exception as exc:  # noqa: BLE001 - reported like a failed startup hook
                    log.error("plugin %s: could not create its indexes: %s: %s", name, type(exc).__name__, exc)
                    yield name, exc
                    continue
            async for result in self.host.in_order("mediabot_startup", [name], app=self):
                yield result

    async def open(self) -> None:
        """Open the deployment's resources without Telegram and without the plugins' startup hooks.

        For CLI subcommands and scripts (see :func:`mediabot.open_app`): Redis,
        MongoDB, the database provider, the kernel's services and the
        catalogue (``app.files``, ``app.users``) are ready, and every plugin's
        ``app.storage(name)`` works; no plugin starts its loops. Undo with
        :meth:`stop`.
        """
        self._begin("open")
        try:
            await self._open_resources()
            self.database = await self._database_provider()
            async for name, err in self._start_plugins(self.kernel_plugins):
                if err is not None:
                    raise PluginStartupError(name, err)
                self.kernel_started.append(name)
        except BaseException:
            await self._teardown(drain=False)
            raise
        self.state = "running"

    def _meta(self, name: str) -> PluginMeta:
        if name in self.kernel_plugins:
            return PluginMeta(name=name, description="kernel")  # never optional
        return next(p.meta for p in self.composition.plugins if p.meta.name == name)

    def _collect_commands(self, results: list[tuple[str, Any]]) -> list[tuple[str, Command]]:
        # Duplicate names are refused in one place: the registry (``Dispatcher.prepare``).
        out: list[tuple[str, Command]] = []
        for plugin, commands in results:
            for cmd in commands or ():
                if not isinstance(cmd, Command):
                    raise PluginLoadError(plugin, f"mediabot_commands returned {type(cmd).__name__}, "
                                          "not Command")
                out.append((plugin, cmd))
        return out

    async def _open_resources(self) -> None:
        needs = self.composition.resources
        redis_url = self.env.get("MEDIABOT_REDIS_URL")
        if redis_url:
            from mediabot.core.redis.client import connect

            # Short timeouts and one immediate retry: a dead Redis must not stall updates.
            cfg = self.section("redis")
            self.redis = connect(redis_url, socket_timeout=cfg.socket_timeout, max_connections=cfg.max_connections,
                                 observer=self._io_observer)
        elif "redis" in needs:
            raise ConfigError("MEDIABOT_REDIS_URL is not set", file="environment", key="MEDIABOT_REDIS_URL",
                              fix="export MEDIABOT_REDIS_URL=redis://host:6379/0")
        mongo_uri = self.env.get("MEDIABOT_MONGO_URI")
        if mongo_uri:
            from pymongo import AsyncMongoClient

            ms = self.section("mongo").timeout_ms
            self.mongo = AsyncMongoClient(mongo_uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms,
                                          socketTimeoutMS=ms, tz_aware=True, **self.mongo_client_options())
        elif "mongo" in needs:
            raise ConfigError("MEDIABOT_MONGO_URI is not set", file="environment", key="MEDIABOT_MONGO_URI",
                              fix="export MEDIABOT_MONGO_URI=mongodb://host:27017")

    async def _check_reachable(self) -> None:
        """At start, Redis and MongoDB must answer: one that does not is a wrong address far
        more often than an outage, and the bot would otherwise run without bans or catalogue.

        (Once running, an outage is survived: Redis services degrade, see ``kernel.services``.
        :meth:`open` does not check: ``mediabot health`` reports what is unreachable.)

        :raises ResourceError: one line: the service, its address (password masked), the timeout.
        """
        if self.redis is not None:
            timeout = self.section("redis").socket_timeout
            tries = 3  # a lone slow answer at start must not stop the bot
            last: BaseException | None = None
            for _ in range(tries):
                try:
                    async with asyncio.timeout(timeout):
                        await self.redis.ping()
                    last = None
                    break
                except (TimeoutError, OSError, RedisError) as exc:
                    last = exc
            if last is not None:
                raise ResourceError(
                    f"Redis at {mask_url(self.env['MEDIABOT_REDIS_URL'])} did not answer {tries} pings of "
                    f"{timeout:g}s each ([redis] socket_timeout): {_reason(last)}") from None
        if self.mongo is not None:
            from pymongo.errors import PyMongoError  # loaded with the client

            ms = self.section("mongo").timeout_ms
            try:
                await self.mongo.admin.command("ping")
            except PyMongoError as exc:
                raise ResourceError(
                    f"MongoDB at {mask_url(self.env['MEDIABOT_MONGO_URI'])} did not answer within {ms / 1000:g}s "
                    f"([mongo] timeout_ms): {_reason(exc)}") from None

    async def _database_provider(self) -> DatabaseProvider | None:
        """The first plugin's provider, else the default; a provider that raises stops the start.

        Silently falling back would run the bot on the wrong database (or none:
        no catalogue, no bans), so the failure names the plugin instead.
        """
        try:
            answer = await self.host.first_strict("mediabot_database_provider", reported=True, app=self)
        except PluginHookFailed as exc:
            if isinstance(exc.error, ConfigError):  # its settings or environment: exit 2, as config check
                raise exc.error from None
            raise PluginStartupError(exc.plugin, exc.error) from exc.error
        return answer[1] if answer is not None else self._default_provider()

    def _default_provider(self) -> DatabaseProvider | None:
        if self.mongo is None:
            return None
        mongo = self.section("mongo")
        return SingleDatabase(self.mongo[mongo.database], durable_writes=mongo.durable_writes)

    async def stop(self, reason: str = "stop requested") -> DrainReport | None:
        """Graceful stop; safe to call more than once."""
        if self.state in ("stopping", "stopped", "created"):
            return self.last_drain
        log.info("stopping: %s", reason)
        await self._teardown(drain=True)
        return self.last_drain

    async def _teardown(self, *, drain: bool) -> None:
        self.state = "stopping"
        sup = self._supervisor
        if self.gateway is not None:
            await _quietly(self.gateway.stop_updates(), "gateway.stop_updates")
        if sup is not None:
            deadline = self.section("runtime").shutdown_deadline if drain else 0.0
            self.last_drain = report = await sup.drain(deadline)
            if report.cancelled:
                self._cancelled.inc(len(report.cancelled))
                log.warning("cancelled %d handler(s) still running after the %.1fs deadline: %s",
                            len(report.cancelled), deadline, ", ".join(report.cancelled))
        stopping = list(reversed(self.kernel_started + self.started))
        for name in stopping:
            # A plugin's loops stop before its shutdown hook: the hook saves
            # state without racing them, and never has to cancel them itself.
            if sup is not None:
                stuck = await sup.cancel_owner(name)
                if stuck:
                    log.warning("loops of %s did not stop: %s", name, ", ".join(stuck))
            async for _name, _err in self.host.in_order("mediabot_shutdown", [name], app=self):
                pass
        if sup is not None:
            stuck = await sup.cancel_background()
            if stuck:
                log.warning("background tasks did not stop: %s", ", ".join(stuck))
        if self.gateway is not None:
            await _quietly(self.gateway.close(), "gateway.close")
        if self.redis is not None:
            await _quietly(self.redis.aclose(), "redis.aclose")
        if self.mongo is not None:
            await _quietly(self.mongo.close(), "mongo.close")
        self.state = "stopped"
        if self._stop_requested is not None:
            self._stop_requested.set()

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop (what SIGTERM does)."""
        if self._stop_requested is not None:
            self._stop_requested.set()

    async def run(self, *, install_signals: bool = True) -> None:
        """Start, serve until SIGTERM/SIGINT (or :meth:`request_stop`), stop gracefully."""
        await self.start()
        # What a started app keeps for its whole life (modules, plugins, indexes: ~200k
        # objects) never becomes garbage; freezing it keeps the collector's full passes
        # from walking it again and again (a third of the dispatch time, measured).
        gc.freeze()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT)
        seen = 0

        def on_signal(sig: signal.Signals) -> None:
            nonlocal seen
            seen += 1
            if seen == 1:
                log.info("received %s: shutting down (send it again to exit at once)", sig.name)
                self.request_stop()
            else:
                log.warning("received %s again: exiting now", sig.name)
                self._force_exit(130)

        if install_signals:
            for sig in signals:
                loop.add_signal_handler(sig, on_signal, sig)
        try:
            assert self._stop_requested is not None
            await self._stop_requested.wait()
            await self.stop("signal")
        finally:
            if install_signals:
                for sig in signals:
                    loop.remove_signal_handler(sig)

    # -- work ----------------------------------------------------------------------
    def submit(self, update: Update) -> asyncio.Task[None] | None:
        """Hand an update to the plugins as supervised in-flight work, within the admission limits.

        Returns its task when it started now; ``None`` when it waits for a
        slot (see :mod:`mediabot.core.admission`), was dropped by the limits, or
        the app is shutting down (the update is not taken).
        """
        if self.state != "running":
            return None
        self._updates.labels(kind=type(update).__name__).inc()
        task: asyncio.Task[None] | None = self._admission.submit(update)
        return task

    def _start_update(self, update: Update) -> asyncio.Task[None] | None:
        if self.state != "running":
            return None  # queued before the stop began: not taken
        try:
            return self.supervisor.spawn(self.dispatch(update), name=f"update:{type(update).__name__}",
                                         kind="work")
        except SupervisorClosed:
            return None

    async def dispatch(self, update: Update) -> None:
        """Handle one update: buttons and commands through the registry, the rest to ``mediabot_update``.

        See :mod:`mediabot.core.dispatch` for the checks (bans, signatures, roles, rate limits).
        """
        await self.dispatcher.dispatch(update)

    async def health(self) -> list[HealthReport]:
        """Every plugin's health reports; a plugin whose check raises is reported down."""
        reports: list[HealthReport] = []
        answered = set()
        for plugin, result in await self.host.collect("mediabot_health", app=self):
            answered.add(plugin)
            reports.extend(result or ())
        for plugin in self.host.implementers("mediabot_health"):
            if plugin not in answered:
                reports.append(HealthReport(component=f"plugin:{plugin}", status="down",
                                            detail="health check raised"))
        reports.extend(self.periodic.reports())
        return reports


class KernelPlugin(Protocol):
    """A kernel plugin: a ``name`` and ``@hookimpl`` methods, like any plugin."""

    name: str


def kernel_plugin_factories() -> list[Callable[[App], KernelPlugin]]:
    """Factories of the kernel's internal plugins, in start order.

    Each returns an object with a ``name`` attribute and ``@hookimpl``
    methods, exactly like a third-party plugin.
    """
    from mediabot.catalog.plugin import CatalogPlugin
    from mediabot.core.autodelete import AutoDeleteLoop
    from mediabot.core.builtin_commands import BuiltinCommands
    from mediabot.core.services import Services

    return [Services, BuiltinCommands, CatalogPlugin, AutoDeleteLoop]


def _reason(exc: BaseException) -> str:
    """The first clause of a driver's error: pymongo appends its whole topology to the message."""
    text = str(exc).split(" (configured timeouts", 1)[0].split(", Timeout: ", 1)[0].strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _quietly(aw: Awaitable[object], what: str) -> None:
    try:
        await aw
    except Exception as exc:  # noqa: BLE001 - shutdown continues whatever one part does
        log.warning("%s failed during shutdown: %s", what, exc)
