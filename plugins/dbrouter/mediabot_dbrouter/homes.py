"""Which database is the home, and moving the home to another database.

The home holds what must exist exactly once: users and bans, the file
registry (``<collection>_claims``, ``<collection>_suspects``) and the
shared pin. Changing ``home`` in ``plugins.toml`` (or giving a new database
``role = "home"``) without moving them would start over with an empty user
list and registry — and cross-database dedup silently off for every file
written before. So the home carries a marker (``dbrouter_state``, ``_id:
"home"``):

* a router starting up writes it into its home if no database has one,
  and refuses to start when another reachable database holds the live
  marker (the home was changed, the data was not moved);
* ``mediabot db move-home NAME`` copies the home's collections to ``NAME``
  (idempotent: run it again after an interruption), checks the copy, and
  moves the marker; then the operator changes ``plugins.toml``.

File collections stay where they are: a collection with a registry (``X``
next to ``X_claims``), and ``files`` always, are data of their database,
not of the home; so are their ``X_pending`` markers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from pymongo import ReplaceOne

from mediabot import ConfigError, utcnow
from mediabot_dbrouter.member import Member, MemberUnavailable
from mediabot_dbrouter.naming import STATE_COLLECTION
from mediabot_dbrouter.views import KIND as VIEW_KIND

if TYPE_CHECKING:
    from mediabot_dbrouter.router import DatabaseRouter

__all__ = ["HomeMoved", "MoveReport", "check_home", "home_collections", "live_markers", "move_home"]

log = logging.getLogger("mediabot.plugin.dbrouter")
MARKER = "home"
COPY_BATCH = 1000


class HomeMoved(ConfigError):
    """The configured home is not where the users and the registry are."""


class MoveReport(msgspec.Struct, kw_only=True):
    """What ``move-home`` copied: documents per collection."""

    source: str
    target: str
    copied: dict[str, int] = {}


async def live_markers(router: DatabaseRouter) -> tuple[list[str], list[str]]:
    """(databases holding a live home marker, databases that did not answer)."""

    async def one(m: Member) -> dict[str, Any] | None:
        return await m.run(lambda: m.db[STATE_COLLECTION].find_one({"_id": MARKER}))

    answers = await asyncio.gather(*(one(m) for m in router.members), return_exceptions=True)
    holders, unreachable = [], []
    for m, answer in zip(router.members, answers, strict=True):
        if isinstance(answer, MemberUnavailable):
            unreachable.append(m.name)
        elif isinstance(answer, BaseException):
            raise answer
        elif answer is not None and not answer.get("moved_to"):
            holders.append(m.name)
    return holders, unreachable


async def check_home(router: DatabaseRouter) -> None:
    """At startup: the home holds the marker, or no database does (then it is marked now).

    :raises HomeMoved: another reachable database holds the live marker.
    """
    home = router.home
    holders, unreachable = await live_markers(router)
    elsewhere = [n for n in holders if n != home.name]
    if elsewhere:
        raise HomeMoved(
            f"the users, bans and file registry are in database {elsewhere[0]!r}, but the home is now "
            f"{home.name!r}", key="plugins.dbrouter.home",
            fix=f"move them first: mediabot db move-home {home.name} (bot stopped), or set "
                f"home = {elsewhere[0]!r} again")
    if home.name in holders:
        return
    if home.name in unreachable:
        log.warning("home database %s did not answer at startup: its marker is checked next start", home.name)
        return
    if unreachable:
        log.warning("databases %s did not answer: a home marker there could not be checked",
                    ", ".join(unreachable))
    await home.run(lambda: home.db[STATE_COLLECTION].replace_one(
        {"_id": MARKER}, {"name": home.name, "since": utcnow()}, upsert=True))


async def home_collections(source: Member) -> list[str]:
    """Collections of the home to move: all but file collections and their pending markers."""
    names = set(await source.run(source.db.list_collection_names))
    files = {"files"} | {n.removesuffix("_claims") for n in names if n.endswith("_claims")}
    skip = files | {f"{f}_pending" for f in files}
    return sorted(n for n in names if n not in skip and not n.startswith("system."))


async def move_home(router: DatabaseRouter, target_name: str, *, force: bool = False,
                    fresh_views: Callable[[Member], Awaitable[list[str]]] | None = None,
                    echo: Callable[[str], None] = lambda _line: None) -> MoveReport:
    """Copy the home's collections to ``target_name`` and move the marker there.

    The source is the database holding the live marker, else the configured home.

    :param force: copy even while a running deployment reports (it may write meanwhile).
    :param fresh_views: given the source, the names of the deployments that reported lately.
    :raises ConfigError: unknown target, the source does not answer, or deployments are running.
    """
    target = router.member(target_name)
    if target is None:
        raise ConfigError(f"unknown database {target_name!r}", key="plugins.dbrouter.databases",
                          fix=f"use one of: {', '.join(m.name for m in router.members)}")
    holders, _ = await live_markers(router)
    source = router.member(holders[0]) if holders else router.home
    assert source is not None
    if source is target:
        echo(f"{target.name} is already the home: nothing to move.")
        return MoveReport(source=source.name, target=target.name)
    running = list(await fresh_views(source)) if fresh_views is not None else []
    if running and not force:
        raise ConfigError(f"deployments are running: {', '.join(running)}", key="plugins.dbrouter.home",
                          fix="stop them first (what they write meanwhile could be missed), or pass --force")
    report = MoveReport(source=source.name, target=target.name)
    for name in await home_collections(source):
        report.copied[name] = await _copy(source, target, name)
        echo(f"copied {name}: {report.copied[name]} documents")
    await target.run(lambda: target.db[STATE_COLLECTION].replace_one(
        {"_id": MARKER}, {"name": target.name, "since": utcnow(), "moved_from": source.name}, upsert=True))
    await source.run(lambda: source.db[STATE_COLLECTION].replace_one(
        {"_id": MARKER}, {"name": source.name, "moved_to": target.name, "at": utcnow()}, upsert=True))
    return report


async def _copy(source: Member, target: Member, name: str) -> int:
    """Upsert every document of ``name`` (views excepted) and its indexes; returns how many."""
    src, dst = source.db[name], target.db[name]
    # The router's state: the pin goes along; running deployments' views and the marker do not.
    query: dict[str, Any] = {"kind": {"$ne": VIEW_KIND}, "_id": {"$ne": MARKER}} if name == STATE_COLLECTION else {}
    copied, last = 0, None
    while True:
        # _id order and a cursor on it: an interrupted copy resumes by running again.
        page_query = query if last is None else {"$and": [query, {"_id": {"$gt": last}}]}
        docs = await source.run(lambda q=page_query: src.find(q).sort("_id", 1).limit(COPY_BATCH).to_list(None))
        if not docs:
            break
        ops = [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs]
        await target.run(lambda ops=ops: dst.bulk_write(ops, ordered=False))
        copied += len(ops)
        last = docs[-1]["_id"]
    specs = await source.run(lambda: _to_list(src.list_indexes()))
    for spec in specs:
        if spec["name"] == "_id_":
            continue
        options = {k: v for k, v in spec.items() if k not in ("key", "v", "ns")}
        await target.run(lambda spec=spec, options=options: dst.create_index(list(spec["key"].items()), **options))
    count_src = await source.run(lambda: src.count_documents(query))
    count_dst = await target.run(lambda: dst.count_documents(query))
    if count_dst < count_src:
        raise ConfigError(f"copy of {name} incomplete: {count_dst} of {count_src} documents in {target.name}",
                          key="plugins.dbrouter.home", fix="run mediabot db move-home again")
    return copied


async def _to_list(cursor: Any) -> list[Any]:
    return await (await cursor).to_list(None)
