"""The write pin, shared by every deployment that writes the catalogue.

A front bot and an indexer each route their own writes, but an admin's
``/dbswitch`` reaches only one of them. So the pin is stored in the home
database (``dbrouter_state``, ``_id: "pin"``) with a version number; every
router applies a newer version on its next monitor pass (``probe_interval``
seconds), and a router starting up applies it before its first write.

A pin holds "until the database fails": a router whose breaker opens on the
pinned database releases the pin at once and then, by compare-and-set on
the version it applied, for everyone — unless an admin changed it meanwhile.
While the home database does not answer, each router keeps the pin it has.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument

from mediabot import utcnow
from mediabot_dbrouter.member import MemberUnavailable
from mediabot_dbrouter.naming import STATE_COLLECTION

if TYPE_CHECKING:
    from mediabot_dbrouter.router import DatabaseRouter

__all__ = ["PinSync"]

log = logging.getLogger("mediabot.plugin.dbrouter")
PIN = "pin"


class PinSync:
    """Publishes this router's pin and follows the others'.

    :param router: the router whose pin it shares.
    """

    def __init__(self, router: DatabaseRouter) -> None:
        self.router = router
        #: version of the shared pin this router last applied or wrote (0: none yet)
        self.version = 0
        #: a database whose pin this router released because it failed; the others are told next pass
        self.released: str | None = None

    def _state(self) -> Any:
        return self.router.home.db[STATE_COLLECTION]

    async def publish(self, *, by: int | None) -> bool:
        """Store this router's pin (or that there is none) for every deployment.

        :param by: the admin who changed it.
        :returns: ``False`` when the home database did not answer (the pin holds here only).
        """
        pinned = self.router.pinned
        name = pinned.name if pinned else None
        state = self._state()
        try:
            doc = await self.router.home.run(lambda: state.find_one_and_update(
                {"_id": PIN}, {"$set": {"db": name, "by": by, "at": utcnow(), "why": "admin"}, "$inc": {"v": 1}},
                upsert=True, return_document=ReturnDocument.AFTER))
        except MemberUnavailable as exc:
            log.warning("write pin not shared with other deployments: %s", exc)
            return False
        self.version = int(doc["v"])
        self.released = None
        return True

    async def sync(self) -> None:
        """Tell the others about a pin released here, then apply a newer shared pin (monitor pass)."""
        router = self.router
        if not router.home.readable:
            return
        state = self._state()
        try:
            name = self.released
            if name is not None:
                doc = await router.home.run(lambda: state.find_one_and_update(
                    {"_id": PIN, "db": name, "v": self.version},
                    {"$set": {"db": None, "by": None, "at": utcnow(), "why": f"{name} failed"}, "$inc": {"v": 1}},
                    return_document=ReturnDocument.AFTER))
                # Told (or an admin changed the pin meanwhile: nothing left to tell). Only now:
                # a write that failed keeps the release for the next pass.
                if self.released == name:
                    self.released = None
                if doc is not None:
                    self.version = int(doc["v"])
            doc = await router.home.run(lambda: state.find_one({"_id": PIN}))
        except MemberUnavailable:
            return  # keep the pin we have; the next pass tries again
        if doc is None or int(doc["v"]) <= self.version:
            return
        self.version = int(doc["v"])
        self._apply(doc.get("db"), doc.get("by"))

    def _apply(self, name: str | None, by: int | None) -> None:
        router = self.router
        current = router.pinned.name if router.pinned else None
        if name == current:
            return
        if name is None:
            router.unpin()
            log.info("write pin on %s released by another deployment", current)
            return
        problem = router.pin(name)
        if problem is None:
            log.info("writes pinned to %s by another deployment (admin %s)", name, by)
            return
        log.warning("write pin on %s from another deployment not applied here: %s", name, problem)
        m = router.member(name)
        if m is not None and m.breaker.state == "open":
            self.released = name  # it failed: the pin ends for everyone
