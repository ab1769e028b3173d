"""Composition: from ``plugins.toml`` to an ordered list of configured plugins.

Everything that can be wrong with a deployment is found here, before any
connection is opened: unknown or misspelled plugins, unknown keys, wrong
types, missing secrets, missing or cyclic dependencies.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mediabot.core.config import RawConfig, did_you_mean, validate_table
from mediabot.core.discovery import Candidate
from mediabot.core.errors import ConfigError, PluginLoadError
from mediabot.core.plugin import PluginMeta, Resource, Secret

# Kernel secrets. Telegram credentials are only needed to talk to Telegram
# (``mediabot run``); dev mode and tests use the fake.
TELEGRAM_SECRETS = (
    Secret(env="MEDIABOT_API_ID", description="Telegram API id (my.telegram.org)"),
    Secret(env="MEDIABOT_API_HASH", description="Telegram API hash (my.telegram.org)"),
    Secret(env="MEDIABOT_BOT_TOKEN", description="bot token from @BotFather"),
    # Every process of a bot must sign buttons with the same key, and keep it
    # across restarts: a per-process random key would expire buttons.
    Secret(env="MEDIABOT_CALLBACK_SECRET",
           description="key signing inline button data; one long random string for all processes of the bot"),
)
RESOURCE_SECRETS = {
    "redis": Secret(env="MEDIABOT_REDIS_URL", description="Redis URL, e.g. redis://host:6379/0"),
    "mongo": Secret(env="MEDIABOT_MONGO_URI", description="MongoDB URI, e.g. mongodb://host:27017"),
}


@dataclass
class Selected:
    """An enabled plugin, loaded and configured, ready to instantiate."""

    candidate: Candidate
    meta: PluginMeta
    factory: Callable[..., Any]
    config: Any


@dataclass
class Composition:
    """The outcome of composing a deployment."""

    raw: RawConfig
    plugins: list[Selected]
    resources: set[Resource] = field(default_factory=set)

    @property
    def names(self) -> list[str]:
        return [p.meta.name for p in self.plugins]


def compose(raw: RawConfig, candidates: dict[str, Candidate], *,
            enable: tuple[str, ...] = ()) -> Composition:
    """Select, load, validate and order the plugins ``raw`` enables.

    :param enable: names enabled regardless of the file (tests, dev console).
    """
    tables = raw.plugin_tables()
    for name in tables:
        if name not in candidates:
            raise ConfigError(f"unknown plugin {name!r}{did_you_mean(name, sorted(candidates))}",
                              file=raw.origin(f"plugins.{name}"), key=f"plugins.{name}",
                              fix=f"installed plugins: {', '.join(sorted(candidates)) or 'none'}")
    wanted = [n for n, t in tables.items() if t.get("enabled", False)]
    wanted += [n for n in enable if n not in wanted]
    selected: dict[str, Selected] = {}
    for name in wanted:
        if name not in candidates:
            raise PluginLoadError(name, "is not installed", fix="install its distribution")
        factory, meta = candidates[name].load()
        table = {k: v for k, v in tables.get(name, {}).items() if k != "enabled"}
        config = validate_table(raw, table, meta.config, f"plugins.{name}")
        selected[name] = Selected(candidates[name], meta, factory, config)
    ordered = order_plugins(selected, candidates, raw)
    resources = {r for s in ordered for r in s.meta.needs}
    return Composition(raw=raw, plugins=ordered, resources=resources)


def order_plugins(selected: dict[str, Selected], candidates: Mapping[str, Candidate],
                  raw: RawConfig) -> list[Selected]:
    """Topological order by ``requires``; ties broken by name for a stable start order."""
    for name, sel in selected.items():
        for dep in sel.meta.requires:
            if dep in selected:
                continue
            if dep in candidates:
                raise ConfigError(f"plugin {name!r} requires {dep!r}, which is not enabled",
                                  file=raw.file_label, key=f"plugins.{dep}.enabled",
                                  fix=f"set [plugins.{dep}] enabled = true, or disable {name!r}")
            raise ConfigError(f"plugin {name!r} requires {dep!r}, which is not installed",
                              file=raw.file_label, key=f"plugins.{name}",
                              fix=f"install the plugin {dep!r} or disable {name!r}")
    indegree = {n: len(set(s.meta.requires)) for n, s in selected.items()}
    users: dict[str, list[str]] = {n: [] for n in selected}
    for n, s in selected.items():
        for dep in set(s.meta.requires):
            users[dep].append(n)
    ready = [n for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    out: list[Selected] = []
    while ready:
        n = heapq.heappop(ready)
        out.append(selected[n])
        for user in users[n]:
            indegree[user] -= 1
            if indegree[user] == 0:
                heapq.heappush(ready, user)
    if len(out) != len(selected):
        cycle = _find_cycle({n: s.meta.requires for n, s in selected.items() if indegree[n] > 0})
        raise ConfigError(f"plugin dependency cycle: {' -> '.join(cycle)}", file=raw.file_label,
                          key="plugins", fix="disable one plugin of the cycle")
    return out


def _find_cycle(graph: Mapping[str, tuple[str, ...]]) -> list[str]:
    for start in sorted(graph):
        path, seen, node = [start], {start}, start
        while True:
            nxt = next((d for d in sorted(graph.get(node, ())) if d in graph), None)
            if nxt is None:
                break
            if nxt in seen:
                return [*path[path.index(nxt):], nxt]
            path.append(nxt)
            seen.add(nxt)
            node = nxt
    return sorted(graph)


def required_secrets(comp: Composition, *, telegram: bool, embedded: bool) -> list[tuple[Secret, str]]:
    """Secrets this deployment reads, with who needs each.

    :param telegram: include the Telegram credentials (``mediabot run``).
    :param embedded: Redis and Mongo are embedded (dev mode): their URIs are optional.
    """
    out: list[tuple[Secret, str]] = []
    if telegram:
        out += [(s, "kernel") for s in TELEGRAM_SECRETS]
    for res in sorted(comp.resources):
        users = ", ".join(p.meta.name for p in comp.plugins if res in p.meta.needs)
        sec = RESOURCE_SECRETS[res]
        out.append((Secret(env=sec.env, description=sec.description, required=not embedded), users))
    for p in comp.plugins:
        out += [(s, p.meta.name) for s in p.meta.secrets]
    return out


def _check_format(name: str, value: str) -> None:
    """What ``run`` would refuse later, refused by ``config check`` now (never echoing the value)."""
    if name == "MEDIABOT_MONGO_URI":
        from mediabot.core.storage import check_mongo_uri

        try:
            check_mongo_uri(value)
        except ValueError as exc:
            raise ConfigError(f"not a valid MongoDB URI: {exc}", file="environment", key=name,
                              fix=f"export {name}=mongodb://user:password@host:27017 (percent-encode @ : / "
                                  "in the password)") from None
    elif name == "MEDIABOT_REDIS_URL" and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("not a Redis URL (it must start with redis://, rediss:// or unix://)",
                          file="environment", key=name, fix=f"export {name}=redis://host:6379/0")
    elif name == "MEDIABOT_API_ID" and not (value.isascii() and value.isdigit() and 0 < int(value) < 2**31):
        raise ConfigError("not a Telegram API id (a number such as 1234567)", file="environment", key=name,
                          fix=f"export {name}=<the api_id my.telegram.org shows under API development tools>")


def missing_secrets_message(missing: list[tuple[Secret, str]]) -> str:
    """One line per missing variable, each named once: what to run, what it is, who needs it.

    The lines are shell commands (``export NAME=...  # what``), so an operator can copy them.
    """
    count = "1 required secret is" if len(missing) == 1 else f"{len(missing)} required secrets are"
    lines = [f"{count} not set; export {'it' if len(missing) == 1 else 'them'} "
             "(secrets are never read from plugins.toml):"]
    for secret, who in missing:
        needer = "the kernel" if who == "kernel" else who
        lines.append(f"  export {secret.env}=...  # {secret.description}; needed by {needer}")
    return "\n".join(lines)


def check_secrets(comp: Composition, env: Mapping[str, str] | None = None, *, telegram: bool,
                  embedded: bool = False) -> dict[str, str]:
    """Return the secrets found; raise one :class:`ConfigError` naming every missing required one.

    All of them at once: an operator setting up a deployment fixes them in one go, not one per start.
    """
    env = os.environ if env is None else env
    # The app opens these whenever they are set, needed by a plugin or not.
    for res in RESOURCE_SECRETS.values():
        if env.get(res.env):
            _check_format(res.env, env[res.env])
    found: dict[str, str] = {}
    missing: list[tuple[Secret, str]] = []
    for secret, who in required_secrets(comp, telegram=telegram, embedded=embedded):
        value = env.get(secret.env, "")
        if value:
            found[secret.env] = value
        elif secret.required and all(m.env != secret.env for m, _ in missing):
            missing.append((secret, who))
    if "MEDIABOT_API_ID" in found:
        _check_format("MEDIABOT_API_ID", found["MEDIABOT_API_ID"])
    if missing:
        raise ConfigError(missing_secrets_message(missing), file="environment")
    return found
