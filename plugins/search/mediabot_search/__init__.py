"""mediabot-search: find catalogue files by name, in private chats, groups and inline mode.

The plugin wires small parts together:

- :mod:`~mediabot_search.keeper`: this process's tantivy index, rebuilt from
  the catalogue when needed and kept current from the change stream;
- :mod:`~mediabot_search.service`: the one search API (:meth:`SearchPlugin.search`);
- :mod:`~mediabot_search.cache`: result pages shared in Redis under a catalogue version;
- :mod:`~mediabot_search.chat` and :mod:`~mediabot_search.inline`: the surfaces;
- :mod:`~mediabot_search.cli`: ``mediabot search reindex``.

See ``docs/search.md`` for users and operators.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mediabot import (
    Callback,
    CallbackContext,
    CommandContext,
    Handler,
    HealthReport,
    InlineQuery,
    MediaFile,
    Message,
    PluginContext,
    PluginMeta,
    UpdateContext,
    hookimpl,
)
from mediabot_search.cache import ResultCache
from mediabot_search.chat import DEEP_LINK_FILE, FILE_ACTION, PAGE_ACTION, SEND_ALL_ACTION, ChatSearch
from mediabot_search.config import SearchConfig
from mediabot_search.engine import SearchFilters
from mediabot_search.inline import InlineSearch
from mediabot_search.keeper import IndexKeeper
from mediabot_search.service import SearchPage, SearchService

__all__ = ["SearchConfig", "SearchFilters", "SearchPage", "SearchPlugin"]


class SearchPlugin:
    meta = PluginMeta(
        name="search",
        description="Search the catalogue: typo-tolerant ranked results, paging, result cache, inline mode, groups.",
        config=SearchConfig,
        needs=("mongo",),
    )

    def __init__(self, ctx: PluginContext[SearchConfig]) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.log = ctx.log
        #: start rebuilding/following at startup (``mediabot search reindex`` turns it off and rebuilds itself)
        self.autostart = True
        self.keeper: IndexKeeper | None = None
        self.service: SearchService | None = None
        self.chat: ChatSearch | None = None
        self.inline: InlineSearch | None = None
        self._engine_queries = ctx.app.metrics.counter(
            "mediabot_search_engine_queries_total", "Searches answered by this process's index (cache misses)")

    # -- the search API --------------------------------------------------------------
    async def search(self, text: str, *, limit: int = 10, after: str | None = None,
                     filters: SearchFilters | None = None) -> SearchPage:
        """Files matching ``text``, best first.

        :param text: what the user typed (any text: it is never parsed as query syntax).
        :param limit: files per page (1-50).
        :param after: the cursor of the page to show (``page.next`` / ``page.previous``); ``None``: the first.
        :param filters: restrictions beyond those written in the text (kind, season, episode, resolution, year).
        :return: a :class:`SearchPage`; its total is exact up to 1,000, then ``capped``.
        """
        if self.service is None:
            raise RuntimeError("the search plugin is not started")
        return await self.service.search(text, limit=limit, after=after, filters=filters)

    async def sync(self, timeout: float = 10.0) -> None:
        """Wait until the index holds every catalogue change published so far (tests, tools)."""
        assert self.keeper is not None
        await self.keeper.caught_up(timeout)

    @property
    def engine_queries(self) -> int:
        """Searches this process answered from its index (not from the cache)."""
        return int(self.ctx.app.metrics.value("mediabot_search_engine_queries_total"))

    # -- lifecycle -------------------------------------------------------------------
    def _index_directory(self, app: Any) -> Path:
        if not self.config.index_dir:
            return self.ctx.storage.directory / "index"
        path = Path(self.config.index_dir).expanduser()
        return path if path.is_absolute() else app.data_dir / path

    @hookimpl
    async def mediabot_startup(self, app: Any) -> None:
        keeper = self.keeper = IndexKeeper(app, self._index_directory(app), lag=self.config.index_lag,
                                           batch=self.config.rebuild_batch, log=self.log)
        reason = await keeper.open()
        cache = None
        if app.redis is not None and self.config.cache_ttl > 0:
            cache = ResultCache(app.redis, self.ctx.storage.key, ttl=self.config.cache_ttl,
                                interval=self.config.invalidation_interval, position=lambda: keeper.position,
                                sleep=app.clock.sleep, now=app.clock.now, metrics=app.metrics)
        keeper.cache = cache
        self.service = SearchService(lambda: app.files, keeper.engine, cache, self._engine_queries.inc,
                                     before_engine=lambda: keeper.fresh(self.config.index_lag),
                                     incomplete=keeper.incomplete)
        self.chat = ChatSearch(app, self.config, self.service)
        self.inline = InlineSearch(app, self.config, self.service)
        if reason is not None:
            self.log.info("search index needs a rebuild: %s", reason)
        if self.autostart:
            self.ctx.spawn_loop(keeper.run, name="index")
            await self._adopt_old_schedule(app)

    async def _adopt_old_schedule(self, app: Any) -> None:
        """Deletions this plugin scheduled before auto-delete moved into delivery go to delivery's schedule."""
        auto_delete = app.delivery.auto_delete
        if auto_delete is None or app.redis is None:
            return  # auto-delete is off now: what the old schedule held stays, as the operator chose
        try:
            await auto_delete.adopt(self.ctx.storage.key("autodelete"))
        except Exception as exc:  # noqa: BLE001 - the next start tries again; search works meanwhile
            self.log.warning("auto-delete: could not move the old search schedule into delivery's: %s: %s",
                             type(exc).__name__, exc)

    @hookimpl
    async def mediabot_shutdown(self, app: Any) -> None:
        if self.keeper is not None:
            await self.keeper.close()

    @hookimpl
    def mediabot_health(self, app: Any) -> list[HealthReport]:
        if self.keeper is None:
            return [HealthReport(component="search.index", status="down", detail="not started")]
        stats = self.keeper.engine.stats()
        if self.keeper.rebuilding:
            return [HealthReport(component="search.index", status="degraded",
                                 detail=f"rebuilding from the catalogue; {stats.documents:,} files searchable")]
        return [HealthReport(component="search.index", status="ok",
                             detail=f"{stats.documents:,} files; checkpoint {self.keeper.position}")]

    # -- catalogue hooks (used only without a change stream) -------------------------
    async def _hook(self, app: Any, op: str, files: list[MediaFile]) -> None:
        if self.keeper is not None and app.changes is None:
            await self.keeper.apply_hook(op, files)

    @hookimpl
    async def mediabot_files_added(self, app: Any, files: list[MediaFile]) -> None:
        await self._hook(app, "add", files)

    @hookimpl
    async def mediabot_files_updated(self, app: Any, files: list[MediaFile]) -> None:
        await self._hook(app, "update", files)

    @hookimpl
    async def mediabot_files_removed(self, app: Any, files: list[MediaFile]) -> None:
        await self._hook(app, "remove", files)

    # -- surfaces --------------------------------------------------------------------
    # Declared without a started plugin (``mediabot plugins`` lists them); they run once it is.
    @hookimpl
    def mediabot_handlers(self) -> list[Handler]:
        # One rate for both surfaces (rate_group); gates "search" (text) and "inline": the kernel checks them.
        common: dict[str, Any] = {"rate_limit": self.config.rate, "rate_group": "search", "gate": "search"}
        handlers = [Handler(name="text", handler=self._on_text, chats=("private", "group"), when=self._wants,
                            description="Send me the title of a film or series (a misspelling is fine) "
                                        "and I'll find its files.", **common)]
        if self.config.inline:
            # Its own gate action, so a deployment can guard inline queries apart from text searches.
            handlers.append(Handler(name="inline", handler=self._on_inline, updates=("inline",),
                                    **{**common, "gate": "inline"}))
        return handlers

    def _wants(self, message: Message) -> bool:
        return self.chat is not None and self.chat.wants(message)

    async def _on_text(self, ctx: UpdateContext) -> None:
        assert self.chat is not None
        await self.chat.on_text(ctx)

    async def _on_inline(self, ctx: UpdateContext) -> None:
        assert self.inline is not None and isinstance(ctx.query, InlineQuery)
        await self.inline.on_query(ctx.query)

    @hookimpl
    def mediabot_callbacks(self) -> list[Callback]:
        return [Callback(FILE_ACTION, self._started("on_file")), Callback(PAGE_ACTION, self._started("on_page")),
                Callback(SEND_ALL_ACTION, self._started("on_send_all"))]

    def _started(self, name: str) -> Callable[[CallbackContext], Awaitable[None]]:
        async def handler(ctx: CallbackContext) -> None:
            assert self.chat is not None, "buttons run once the plugin is started"
            await getattr(self.chat, name)(ctx)

        return handler

    @hookimpl
    async def mediabot_deep_link(self, ctx: CommandContext, action: str, args: tuple[str, ...]) -> bool | None:
        if action != DEEP_LINK_FILE or self.chat is None:
            return None
        await self.chat.on_deep_link(ctx, args)
        return True

    @hookimpl
    def mediabot_cli(self, cli: Any, config: Any) -> None:
        from mediabot_search.cli import search_group

        cli.add_command(search_group(config))
