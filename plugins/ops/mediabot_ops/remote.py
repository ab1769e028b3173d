"""Asking the running bot for its health: what ``mediabot health`` (without ``--offline``) reports.

A process that has not started the plugins cannot judge them (the indexer
and the search index are "not started" there); the bot that runs them can.
So the CLI asks that bot's ``/readyz`` at ``[plugins.ops] listen`` and
reports what it answers, components and all. Blocking: it runs in the CLI,
never in the bot's event loop.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import msgspec

from mediabot import HealthReport
from mediabot_ops.config import OpsConfig
from mediabot_ops.deploy import ready_url
from mediabot_ops.health import Snapshot, judge

__all__ = ["NoAnswer", "ask_running_bot"]


class NoAnswer(Exception):
    """No running bot answered; ``str()`` is the one line the operator reads.

    :param exit_code: 2 when the configuration keeps the CLI from asking (no address, wrong
        token), 3 when nothing answers at the address.
    """

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Readyz(msgspec.Struct):
    components: list[HealthReport]


_OFFLINE_HINT = "`mediabot health --offline` checks the configuration, Redis and MongoDB without a running bot"


def ask_running_bot(config: OpsConfig, token: str | None, *, timeout: float) -> tuple[str, Snapshot]:
    """The running bot's ``/readyz``: ``(url, snapshot)``. :raises NoAnswer:"""
    if not config.listen:
        raise NoAnswer('[plugins.ops] listen is "": the running bot serves no /readyz to ask '
                       f'(set listen, e.g. "127.0.0.1:9464"; {_OFFLINE_HINT})', exit_code=2)
    url = ready_url(config)
    if url is None:
        raise NoAnswer(f"[plugins.ops] listen = {config.listen!r} takes any free port: the CLI cannot know which "
                       f'one the running bot has (give it a fixed port, e.g. "127.0.0.1:9464"; {_OFFLINE_HINT})',
                       exit_code=2)
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise NoAnswer(f"the bot at {url} refused the bearer token: set MEDIABOT_OPS_TOKEN to the token it "
                           "was started with", exit_code=2) from None
        if exc.code != 503:  # 503: answered, not ready; the body says why
            raise NoAnswer(f"the bot at {url} answered HTTP {exc.code}; is it a mediabot? ({_OFFLINE_HINT})",
                           exit_code=3) from None
        body = exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NoAnswer(f"no running bot answers at {url} ({_reason(reason)}); start it, or {_OFFLINE_HINT}",
                       exit_code=3) from None
    try:
        answer = msgspec.json.decode(body, type=_Readyz)
    except msgspec.DecodeError:
        raise NoAnswer(f"the answer of {url} is not a mediabot /readyz ({_OFFLINE_HINT})", exit_code=3) from None
    return url, judge(answer.components)


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "no answer in time"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)
