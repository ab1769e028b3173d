"""Inline mode: ``@bot dune`` in any chat, answered from the same search API and cache.

Telegram sends an inline *cached document* itself, when the user picks it:
the bot never sees that delivery, so no quota, gate or delivery count applies
to it. Therefore:

- when a plugin implements ``mediabot_delivery_reserve`` (a quota) or
  ``mediabot_gate`` (a gate), results are **articles**: picking one posts a
  short text with a button that opens the private chat with the bot, which
  delivers the file there through ``app.delivery`` (counted, limited, gated);
- with neither, results are the **cached documents** themselves.

Paging: ``next_offset`` is the search cursor; Telegram sends it back as the
query's ``offset`` when the user scrolls.
"""

from __future__ import annotations

from typing import Any

from mediabot import Button, InlineQuery, InlineResult, MediaFile, human_size
from mediabot_search.chat import DEEP_LINK_FILE, meaningful_length
from mediabot_search.config import SearchConfig
from mediabot_search.render import display_name, file_label
from mediabot_search.service import SearchService

__all__ = ["InlineSearch"]


class InlineSearch:
    def __init__(self, app: Any, config: SearchConfig, service: SearchService) -> None:
        self.app = app
        self.config = config
        self.service = service

    def deliveries_controlled(self) -> bool:
        """Whether a quota or a gate is in force: then inline results must not be the files themselves."""
        hooks = self.app.hooks
        return bool(hooks.implementers("mediabot_delivery_reserve") or hooks.implementers("mediabot_gate"))

    async def on_query(self, query: InlineQuery) -> None:
        """The kernel's handler ``search.inline`` (after its rate and the ``search`` gate) runs this."""
        text = query.query or ""
        if meaningful_length(text) < self.config.min_query_length:
            await self.app.telegram.answer_inline(query.id, [])
            return
        page = await self.service.search(text, limit=self.config.inline_page_size, after=query.offset or None)
        articles = self.deliveries_controlled()
        results = [self._article(f) if articles else self._document(f) for f in page.files]
        await self.app.telegram.answer_inline(query.id, results, next_offset=page.next or "")

    def _document(self, file: MediaFile) -> InlineResult:
        return InlineResult(id=file.id, title=display_name(file), file_id=file.file_id,
                            description=human_size(file.size) or None)

    def _article(self, file: MediaFile) -> InlineResult:
        link = self.app.deep_link(DEEP_LINK_FILE, file.id)
        return InlineResult(id=file.id, title=display_name(file),
                            description=human_size(file.size) or None,
                            text=f"{file_label(file)}\nOpen the bot to receive it.",
                            keyboard=[[Button(text="Get the file", url=link)]])
