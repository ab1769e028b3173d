"""Where the console's lines come from: a script, a pipe, or a person at a terminal.

At a terminal the line editor is prompt_toolkit's: the prompt stays on the
last line and everything the bot prints while you type (a late edit, a
broadcast's progress) is drawn above it (``patch_stdout``), so typed text and
the bot's output never mix. The prompt reads all the time, even while the
previous line is being handled: what you type ahead waits in order. Pipes and
scripts are read plainly, a line at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TextIO


def is_terminal() -> bool:
    """A person types and reads: both ends are a terminal."""
    return sys.stdin.isatty() and sys.stdout.isatty()


@contextlib.contextmanager
def terminal_output() -> Iterator[TextIO]:
    """Standard output that prints above the prompt (and the prompt redrawn under it)."""
    from prompt_toolkit.patch_stdout import patch_stdout

    with patch_stdout(raw=True):
        yield sys.stdout


async def terminal_lines(prompt: Callable[[], str]) -> AsyncIterator[str]:
    """Lines typed at the prompt (``prompt()`` is re-read: it names who you talk as)."""
    from prompt_toolkit import PromptSession

    # The submitted line is erased: the console prints it as "user › …" when it handles it, in order.
    session: PromptSession[str] = PromptSession(erase_when_done=True)
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    async def read() -> None:
        try:
            while True:
                queue.put_nowait(await session.prompt_async(prompt))
        except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C: the session ends
            pass
        finally:
            queue.put_nowait(None)

    reader = asyncio.create_task(read(), name="dev-console-prompt")
    try:
        while (line := await queue.get()) is not None:
            yield line
            session.app.invalidate()  # the line may have changed who you are: redraw the prompt
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def stdin_lines() -> AsyncIterator[str]:
    """Lines from a piped stdin without blocking the loop; a daemon thread never holds up exit."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    ready = threading.Event()

    def reader() -> None:
        try:
            while True:
                ready.wait()
                ready.clear()
                line = sys.stdin.readline()
                if line == "":
                    break
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
        except (EOFError, KeyboardInterrupt, ValueError):
            pass
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=reader, name="dev-console-input", daemon=True).start()
    while True:
        ready.set()  # one line at a time: the next is read when this one is handled
        line = await queue.get()
        if line is None:
            return
        yield line


async def script_lines(stream: TextIO) -> AsyncIterator[str]:
    for line in stream:
        yield line.rstrip("\n")


async def until(lines: AsyncIterator[str], stop: asyncio.Event) -> AsyncIterator[str]:
    """Yield lines until ``stop`` is set (Ctrl-C) or the input ends."""
    iterator = aiter(lines)
    while not stop.is_set():
        nxt = asyncio.ensure_future(anext(iterator))
        stopper = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({nxt, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if nxt not in done:
            nxt.cancel()
            return
        try:
            yield nxt.result()
        except StopAsyncIteration:
            return
