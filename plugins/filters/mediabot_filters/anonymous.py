"""Anonymous group admins: their commands carry no user, so a button asks whoever presses it to prove they are an admin.

A message an anonymous admin sends is "from" the group itself; the kernel
refuses commands without a user account. This middleware catches the
plugin's own management commands in that case, before the kernel refuses
them, and answers with a button anyone may press: the press runs the command
as the user who pressed it, if Telegram says that user is an admin of the
group (a member pressing it is told no, and nothing happens).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mediabot import CallbackContext, Command, CommandContext, Incoming, Message, UsageError
from mediabot_filters.access import Access

__all__ = ["ANON_ACTION", "AnonymousAdmins"]

ANON_ACTION = "filters.an"
PROMPT = "You are anonymous: an admin presses the button to run {command} as themselves."


class AnonymousAdmins:
    def __init__(self, app: Any, access: Access, commands: Callable[[], dict[str, Command]]) -> None:
        self.app = app
        self.access = access
        self._commands = commands  # the plugin's commands, by name

    async def middleware(self, incoming: Incoming, call_next: Callable[[], Awaitable[None]]) -> None:
        update = incoming.update
        if (isinstance(update, Message) and update.from_user is None and update.chat.is_group
                and update.sender_chat is not None and update.sender_chat.id == update.chat.id
                and incoming.command in self._commands()):
            button = self.app.button(None, "I am an admin: run it", ANON_ACTION, update.chat.id, update.id)
            await self.app.telegram.send_text(update.chat.id, PROMPT.format(command=f"/{incoming.command}"),
                                              keyboard=[[button]], reply_to=update.id)
            return
        await call_next()

    async def confirm(self, ctx: CallbackContext) -> None:
        chat_id, message_id = int(ctx.args[0]), int(ctx.args[1])
        if not await self.access.may_manage(chat_id, ctx.user):
            await ctx.answer("Only this group's admins can do that.", alert=True)
            return
        found = await self.app.telegram.read_channel(chat_id, [message_id])
        command = found[0].command if found else None
        entry = self._commands().get(command[0]) if command else None
        if entry is None or command is None:
            await ctx.answer("That command is gone.", alert=True)
            return
        await ctx.answer()
        if ctx.message is not None:  # one run per prompt: the button goes
            await self.app.telegram.edit_text(ctx.message.chat.id, ctx.message.id,
                                              f"/{entry.name}: run by {ctx.user.display_name}.")
        run = CommandContext(self.app, message=found[0], user=ctx.user, command=entry, args=command[1],
                             role=ctx.role, plugin=ctx.plugin)
        try:
            await entry.handler(run)
        except UsageError as exc:
            await run.reply(f"{exc.message}\nUsage: /{entry.name} {entry.usage}".strip())
