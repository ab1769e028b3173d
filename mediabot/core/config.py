"""Loading ``plugins.toml``: kernel sections, environment overrides, validation.

Validation happens once, here, at the edge. Every error names the file (or
the environment variable it came from), the dotted key and the fix, with a
"did you mean" for misspellings.
"""

from __future__ import annotations

import difflib
import inspect
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from mediabot.core.errors import ConfigError
from mediabot.core.rate import Rate
from mediabot.core.telegram.config import TelegramSection

ENV_CONFIG = "MEDIABOT_CONFIG"
ENV_OVERRIDE_PREFIX = "MEDIABOT__"
DEFAULT_CONFIG_NAME = "plugins.toml"

# Ranges of settings, declared on the schemas: ``config check`` rejects what is
# out of range with the file, the key and the bounds, and docs/configuration.md
# shows them. A Telegram id is a positive 64-bit integer.
TelegramId = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]
DAY = 86_400.0
#: A period of background work or a wait: at least 10 ms (less only burns CPU), at most a day.
Seconds = Annotated[float, msgspec.Meta(ge=0.01, le=DAY)]

#: A directory the bot writes into. Besides its type, :func:`validate_table` refuses
#: ``/`` and system directories (``/etc``, ``/usr``, ``/proc``, the home directory
#: itself...), where the bot's files would mix with the system's or could not be
#: written. ``""`` passes (the setting's own meaning: off, or a default place).
Directory = Annotated[str, msgspec.Meta(extra={"mediabot": "directory"})]

#: Directories no deployment's files belong in (the directory itself, not what is below it).
SYSTEM_DIRECTORIES = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib",
    "/usr/local", "/usr/share", "/var", "/var/lib", "/var/log", "/var/tmp",
})
#: Kernel file systems: nothing below them is a place for files.
_VIRTUAL_ROOTS = ("/proc/", "/sys/", "/dev/")


class BotSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Who the bot is and who runs it.

    :param name: display name used in messages and logs.
    :param owner: Telegram user id of the owner (every admin right, plus owner-only commands).
    :param admins: Telegram user ids allowed to use admin commands.
    :param unknown_command_reply: answer to an unknown command in a private chat; empty string to stay silent (groups always stay silent).
    :param start_text: the first line of the answer to ``/start`` (and to a link the bot does not know); ``{bot}`` is replaced by ``name``, ``{first_name}`` by the user's first name. The enabled plugins' lines follow it (search: "Send me the title of a film or series…"), then the pointer to /help.
    :param banned_text: what a banned user is told, at most once a day (empty: nothing).
    :param log_channel: a channel or group id (``-100…``) the bot can post in: notices to the operators (plugins' alerts) go there instead of the owner's and admins' private chats, and so do the events of ``log_events``.
    :param log_events: events posted to ``log_channel`` (never to private chats): ``new_users`` (users who wrote to the bot for the first time), ``groups`` (the bot added to or removed from a group or channel).
    :param button_ttl: seconds an inline button keeps working after the bot sent it; pressing an older one answers "This button has expired".
    """

    name: str = "mediabot"
    owner: TelegramId | None = None
    admins: list[TelegramId] = []
    unknown_command_reply: str = "Unknown command. Send /help for the list."
    start_text: str = "Hi {first_name}! I am {bot}."
    banned_text: str = "You are banned from using this bot."
    log_channel: int | None = None
    log_events: list[Literal["new_users", "groups"]] = msgspec.field(
        default_factory=lambda: ["new_users", "groups"])
    button_ttl: Annotated[float, msgspec.Meta(ge=60, le=365 * DAY)] = 7 * 86400.0


class RuntimeSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Process behaviour.

    :param shutdown_deadline: seconds in-flight handlers and jobs get to finish after SIGTERM/SIGINT before they are cancelled.
    :param log_level: DEBUG, INFO, WARNING or ERROR.
    :param log_format: ``text`` for humans, ``json`` (one object per line) for log collectors.
    :param max_in_flight: updates handled at once by this process; more wait (see ``max_waiting``).
    :param max_waiting: updates waiting for a slot; beyond, new ones are dropped and counted in ``mediabot_updates_dropped_total`` (Telegram cannot be asked to slow down: this bounds memory under a flood).
    :param max_in_flight_per_user: updates of one user handled at once; the user's next ones wait.
    :param max_waiting_per_user: updates of one user waiting; beyond, the oldest is replaced by the newest (the latest search wins), so one user's flood never holds the others' turns.
    :param data_dir: directory for the deployment's files (each plugin gets ``<data_dir>/plugins/<name>``, created with mode 0700); a relative path is relative to the directory of ``plugins.toml``. Several processes on one host need one directory each.
    """

    shutdown_deadline: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 10.0
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    max_in_flight: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 256
    max_waiting: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 10_000
    max_in_flight_per_user: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 2
    max_waiting_per_user: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 3
    data_dir: Annotated[Directory, msgspec.Meta(min_length=1)] = "data"


class RedisSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Shared Redis (the URL comes from ``MEDIABOT_REDIS_URL``).

    :param key_prefix: prefix of every key this deployment writes; deployments sharing one Redis for one bot use the same prefix.
    :param socket_timeout: seconds before a Redis call is given up (keeps a dead Redis from stalling the bot).
    :param max_connections: connections per process; when all are busy a call waits up to ``socket_timeout`` for one.
    """

    key_prefix: str = "mb"
    socket_timeout: Annotated[float, msgspec.Meta(ge=0.01, le=60)] = 0.5
    max_connections: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 64


class MongoSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Shared MongoDB (the URI comes from ``MEDIABOT_MONGO_URI``).

    :param database: database name used by the default database provider.
    :param timeout_ms: server selection and socket timeout in milliseconds.
    :param durable_writes: catalogue writes wait for the server's journal (write concern ``j: true``, keeping the URI's ``w``): an acknowledged file survives a server crash. ``false`` trades that for speed. The dbrouter plugin has its own ``durable_writes`` with the same meaning.
    """

    database: str = "mediabot"
    timeout_ms: Annotated[int, msgspec.Meta(ge=10, le=600_000)] = 5000
    durable_writes: bool = True


class ServicesSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Rate limits and per-user sessions: shared in Redis when ``MEDIABOT_REDIS_URL`` is set; without it, kept in the bot process (limits count per process, sessions are lost at restart).

    With Redis they keep working, degraded and visible in health, while Redis
    is down, and go back to Redis on their own when it returns.

    :param user_rate: commands and button presses one user may send, e.g. ``20/min``, ``5/10s``, ``30/min burst 10``; a command's own ``rate_limit`` is checked on top.
    :param rate_limit_policy: while Redis is unreachable, ``fail_open`` lets every command through (an outage never blocks users) and ``fail_closed`` refuses them (protects downstream quotas).
    :param fail_closed_retry_after: seconds a user is told to wait when refused under ``fail_closed``.
    :param session_ttl: seconds a user's interaction state (query, page, selection) lives after its last write.
    :param fallback_size: rate-limit keys and sessions kept in process (while Redis is down, or always without Redis); the least recently used are dropped beyond it.
    :param retry_interval: while Redis is down, seconds between trial calls and health probes that detect its return.
    """

    user_rate: str = "20/min"
    rate_limit_policy: Literal["fail_open", "fail_closed"] = "fail_open"
    fail_closed_retry_after: Seconds = 5.0
    session_ttl: Annotated[float, msgspec.Meta(ge=1, le=30 * DAY)] = 3600.0
    fallback_size: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 10_000
    retry_interval: Seconds = 1.0

    def __post_init__(self) -> None:
        Rate.parse(self.user_rate)


class CatalogSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The shared catalogue and user directory (active when a database is configured).

    :param ban_refresh: seconds between reloads of the banned ids, so bans and unbans made by another deployment apply within this delay (the deployment that runs ``/ban`` applies it at once).
    :param touch_interval: seconds between two recorded sightings (last seen) of one user; keeps user tracking to at most one write per user per interval.
    :param flush_interval: seconds between batched writes of recorded sightings.
    :param change_stream_length: about how many catalogue changes (one per write, not per file) the change stream keeps in Redis; a process that falls further behind rebuilds what it derives from the catalogue.
    :param outbox_grace: seconds after which a catalogue write whose change did not reach the change stream (its process died, or Redis was down) is published by another pass; a change may be published twice, never lost.
    """

    ban_refresh: Seconds = 30.0
    touch_interval: Seconds = 300.0
    flush_interval: Annotated[float, msgspec.Meta(ge=0.01, le=3600)] = 1.0
    change_stream_length: Annotated[int, msgspec.Meta(ge=100, le=100_000_000)] = 100_000
    outbox_grace: Annotated[float, msgspec.Meta(ge=1, le=DAY)] = 30.0


class DeliverySection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How files reach users (``app.delivery``, used by every plugin that sends catalogue files).

    :param caption: caption of a delivered file; ``{name}`` (file name), ``{size}`` (e.g. ``1.4 GB``), ``{caption}`` (the channel post's caption), ``{caption_or_name}`` (the post's caption when it had one, else the file name) and ``{bot}`` (``[bot] name``) are replaced; nothing else is interpreted. Control and bidi characters are removed, and a caption over Telegram's 1,024 characters (UTF-16 units) is cut at a word with "…".
    :param protect_content: delivered files cannot be forwarded or saved by the receiver (a plugin may decide otherwise per delivery: ``app.delivery.send(..., protect_content=)``).
    :param refused_text: what a user is told when a delivery plugin (quota) fails: nothing is sent.
    :param limit_text: what a user is told when a delivery plugin grants nothing and gives no reason.
    :param auto_delete: seconds after which the files ``app.delivery`` sent (by any plugin) are deleted from the receiver's chat, with a notice under them ("These files will be deleted in 10 min: save them elsewhere."); 0: never; at most 172800, Telegram's 48 h limit for a bot deleting its messages. Needs Redis (``MEDIABOT_REDIS_URL``): the schedule is shared by every process and survives restarts. A plugin may keep one delivery's files (``auto_delete=False``). Replaces ``[plugins.search] auto_delete``.
    """

    caption: Annotated[str, msgspec.Meta(max_length=1024)] = "{caption_or_name}"
    protect_content: bool = False
    refused_text: str = "Files cannot be sent right now. Please try again in a few minutes."
    limit_text: str = "You cannot receive more files right now."
    # 48 h: Telegram lets a bot delete its own messages for 48 hours (autodelete.MAX_AUTO_DELETE).
    auto_delete: Annotated[float, msgspec.Meta(ge=0, le=172_800)] = 0.0


class RoutingSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Which plugin answers an update first (see "Routing" in docs/plugins.md).

    :param order: routes (``<plugin>.<handler>``, as ``mediabot plugins`` lists them) tried first, in this order; the others follow in their plugins' own order. A name no enabled plugin declares is an error.
    """

    order: list[str] = []


#: Kernel sections of ``plugins.toml`` and their schemas, in documentation order.
#: Other kernel sections register here as they are written; ``plugins`` is separate.
KERNEL_SECTIONS: dict[str, type[msgspec.Struct]] = {
    "bot": BotSection,
    "runtime": RuntimeSection,
    "redis": RedisSection,
    "mongo": MongoSection,
    "catalog": CatalogSection,
    "delivery": DeliverySection,
    "services": ServicesSection,
    "telegram": TelegramSection,
    "routing": RoutingSection,
}


@dataclass
class RawConfig:
    """The parsed file plus environment overrides, before plugin validation.

    :param path: the file it came from (``None`` when no file exists).
    :param data: the merged table.
    :param sources: dotted key -> the environment variable that set it.
    :param kernel: validated kernel sections by name.
    :param env: the environment it was read with (a plugin's ``validate(env)`` sees it).
    """

    path: Path | None
    data: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    kernel: dict[str, msgspec.Struct] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    #: tables that exist only because an override created them -> that variable
    env_tables: dict[str, str] = field(default_factory=dict)

    @property
    def file_label(self) -> str:
        return str(self.path) if self.path else "(no config file)"

    def origin(self, key: str) -> str:
        """Where ``key`` was set: an environment variable or the file.

        A table no file line wrote (``plugins.serach``, made by
        ``MEDIABOT__PLUGINS__SERACH__PAGE_SIZE``) comes from the variable that made it.
        """
        for k, env in self.sources.items():
            if key == k or key.startswith((k + ".", k + "[")):
                return f"environment variable {env}"
        made = self.env_tables.get(key)
        if made is not None:
            return f"environment variable {made}"
        return self.file_label

    def env_keys_under(self, key: str) -> list[tuple[str, str]]:
        """``(dotted key, variable)`` for each key inside table ``key`` set from the environment."""
        return [(k, env) for k, env in sorted(self.sources.items()) if k.startswith(key + ".")]

    def section(self, name: str) -> Any:
        return self.kernel[name]

    def plugin_tables(self) -> dict[str, dict[str, Any]]:
        return self.data.get("plugins", {})


def resolve_path(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    """Return the config path and whether the user asked for it explicitly."""
    if explicit:
        return Path(explicit), True
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]), True
    return Path(DEFAULT_CONFIG_NAME), False


def load_raw(explicit: str | os.PathLike[str] | None = None,
             env: Mapping[str, str] | None = None) -> RawConfig:
    """Read the TOML file, apply ``MEDIABOT__...`` overrides, validate kernel sections."""
    env = os.environ if env is None else env
    path, asked = resolve_path(explicit, env)
    data: dict[str, Any]
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the file: {exc}", file=str(path),
                              fix="check the path and its permissions") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", file=str(path),
                              fix="fix the syntax at that line") from None
        shown: Path | None = path
    elif asked:
        raise ConfigError("file not found", file=str(path),
                          fix=f"pass an existing file with --config or {ENV_CONFIG}")
    else:
        data, shown = {}, None
    raw = RawConfig(path=shown, data=data, env=env)
    _apply_env_overrides(raw, env)
    _validate_kernel(raw)
    return raw


def _apply_env_overrides(raw: RawConfig, env: Mapping[str, str]) -> None:
    for name in sorted(env):
        if not name.startswith(ENV_OVERRIDE_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_OVERRIDE_PREFIX):].split("__")]
        if not parts or any(not p for p in parts):
            raise ConfigError("malformed override name", key=name,
                              fix="use MEDIABOT__SECTION__KEY, e.g. MEDIABOT__RUNTIME__LOG_LEVEL=DEBUG")
        node = raw.data
        for i, part in enumerate(parts[:-1]):
            if part not in node:
                raw.env_tables.setdefault(".".join(parts[:i + 1]), name)
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{'.'.join(parts[:i + 1])} is not a table", key=name,
                                  fix="override a key inside a table")
            node = child
        node[parts[-1]] = parse_env_value(env[name])
        raw.sources[".".join(parts)] = name


def parse_env_value(text: str) -> Any:
    """Read an override as a TOML value (``20``, ``true``, ``[1, 2]``, ``"x"``), else as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _validate_kernel(raw: RawConfig) -> None:
    known = [*KERNEL_SECTIONS, "plugins"]
    for name in raw.data:
        if name not in known:
            raise ConfigError(f"unknown section [{name}]{did_you_mean(name, known)}",
                              file=raw.origin(name), key=name,
                              fix=f"known sections: {', '.join(known)}")
    for name, schema in KERNEL_SECTIONS.items():
        raw.kernel[name] = validate_table(raw, raw.data.get(name, {}), schema, name)
    plugins = raw.data.get("plugins", {})
    if not isinstance(plugins, dict):
        raise ConfigError("must be a table of [plugins.<name>] tables", file=raw.origin("plugins"),
                          key="plugins", fix="write [plugins.search] enabled = true")
    for pname, table in plugins.items():
        if not isinstance(table, dict):
            raise ConfigError("must be a table", file=raw.origin(f"plugins.{pname}"),
                              key=f"plugins.{pname}",
                              fix=f"write [plugins.{pname}] with enabled = true")
        enabled = table.get("enabled", False)
        if not isinstance(enabled, bool):
            raise ConfigError(f"expected true or false, got {_toml_type(enabled)}",
                              file=raw.origin(f"plugins.{pname}.enabled"),
                              key=f"plugins.{pname}.enabled", fix="write enabled = true or enabled = false")


def validate_table(raw: RawConfig, table: Any, schema: type[msgspec.Struct], key: str) -> Any:
    """Validate one table against a msgspec schema, with operator-grade errors."""
    if not isinstance(table, dict):
        raise ConfigError(f"expected a table, got {_toml_type(table)}", file=raw.origin(key), key=key,
                          fix=f"write it as [{key}]")
    _check_unknown_keys(raw, table, schema, key)
    _check_finite(raw, table, key)
    try:
        value = msgspec.convert(table, schema, strict=True)
    except msgspec.ValidationError as exc:
        sub, message = _split_msgspec_error(str(exc))
        full = key + sub
        out_of_range = _range_error(schema, sub, table, full) if _BOUND.match(message) else None
        if out_of_range is not None:
            message, fix, shown = out_of_range
            raise ConfigError(message, file=raw.origin(full), key=full, fix=fix, shown=shown) from None
        leaf = full.rsplit(".", 1)[-1]
        fix = _fix_for(message, leaf)
        choices = _choices(_type_at(schema, sub))
        if choices is not None and message.startswith("Invalid enum value"):
            given = _value_at(table, sub)
            message += did_you_mean(str(given), [str(c) for c in choices])
            fix = f"valid values: {', '.join(repr(c) for c in choices)}"
        raise ConfigError(message, file=raw.origin(full), key=full, fix=fix) from None
    _check_directories(raw, value, key)
    # What a schema cannot say (fields that must agree with each other): a
    # ``validate()`` method raising ConfigError with a key relative to the table.
    # ``validate(self, env)`` also gets the environment (URIs, tokens a setting depends on).
    check = getattr(value, "validate", None)
    if callable(check):
        try:
            if "env" in inspect.signature(check).parameters:
                check(env=raw.env)
            else:
                check()
        except ConfigError as exc:
            full = f"{key}.{exc.key}" if exc.key else key
            origin = raw.origin(full)
            message = exc.message
            # The rule ties several keys together: the operator must know which of them
            # the environment set, or they would look for the mistake in the file alone.
            from_env = [(k, env) for k, env in raw.env_keys_under(key) if env not in origin]
            if from_env:
                message += "; set in the environment: " + ", ".join(f"{k} by {env}" for k, env in from_env)
            raise ConfigError(message, file=origin, key=full, fix=exc.fix) from None
    return value


def system_directory(path: str) -> str | None:
    """Why ``path`` cannot hold the bot's files (``"/etc" is a system directory``), or ``None``."""
    if not path:
        return None
    expanded = os.path.expanduser(path)
    if not os.path.isabs(expanded):
        return None  # below plugins.toml's directory (or data_dir): the deployment's own
    normal = "/" + os.path.normpath(expanded).strip("/")
    if normal in SYSTEM_DIRECTORIES:
        return "/ is the root directory" if normal == "/" else f"{normal} is a system directory"
    if normal.startswith(_VIRTUAL_ROOTS):
        return f"{normal} is inside a kernel file system"
    if normal == os.path.normpath(os.path.expanduser("~")):
        return f"{normal} is the home directory itself"
    return None


def _check_directories(raw: RawConfig, value: Any, key: str) -> None:
    """Refuse a :data:`Directory` field (here or in nested tables) that names a system directory."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_directories(raw, item, f"{key}[{i}]")
        return
    if not isinstance(value, msgspec.Struct):
        return
    info = msgspec.inspect.type_info(type(value))
    assert isinstance(info, msgspec.inspect.StructType)
    for f in info.fields:
        given = getattr(value, f.name)
        full = f"{key}.{f.encode_name}"
        if isinstance(f.type, msgspec.inspect.Metadata) and (f.type.extra or {}).get("mediabot") == "directory":
            reason = system_directory(given) if isinstance(given, str) else None
            if reason is not None:
                default = f.default if isinstance(f.default, str) and f.default else None
                example = f"the default {default!r}" if default else "/var/lib/mediabot"
                raise ConfigError(f"{reason}, not a place for the bot's files",
                                  file=raw.origin(full), key=full, shown=f"[{key}] {f.encode_name} = "
                                  f"{_toml_value(given)}", fix=f"give {f.encode_name} a directory of the "
                                  f"bot's own, e.g. {example}")
        else:
            _check_directories(raw, given, full)


def _check_finite(raw: RawConfig, value: Any, key: str) -> None:
    """TOML has ``nan`` and ``inf``; no setting means either (``button_ttl = nan`` would crash startup)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{value} is not a usable number", file=raw.origin(key), key=key,
                          fix="give a finite number")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(raw, v, f"{key}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(raw, v, f"{key}[{i}]")


def _check_unknown_keys(raw: RawConfig, table: dict[str, Any], schema: type, key: str) -> None:
    info = msgspec.inspect.type_info(schema)
    if not isinstance(info, msgspec.inspect.StructType):
        return
    fields = {f.encode_name: f for f in info.fields}
    for name, value in table.items():
        if name not in fields:
            full = f"{key}.{name}"
            raise ConfigError(f"unknown key {name!r}{did_you_mean(name, list(fields))}",
                              file=raw.origin(full), key=full,
                              fix=f"valid keys here: {', '.join(fields) or '(none)'}")
        nested = _struct_of(fields[name].type)
        if nested is not None and isinstance(value, dict):
            _check_unknown_keys(raw, value, nested, f"{key}.{name}")


def _struct_of(t: msgspec.inspect.Type) -> type | None:
    if isinstance(t, msgspec.inspect.StructType):
        return t.cls
    if isinstance(t, msgspec.inspect.UnionType):
        for member in t.types:
            if isinstance(member, msgspec.inspect.StructType):
                return member.cls
    return None


_MSGSPEC_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")


def _split_msgspec_error(text: str) -> tuple[str, str]:
    m = _MSGSPEC_PATH.match(text)
    assert m is not None
    path = m.group("path") or ""
    # msgspec paths look like ".admins[0]": keep them readable as dotted keys.
    return path, m.group("msg").replace("`", "")


_PATH_PART = re.compile(r"\.(\w+)|\[(\d+)\]")


def _path_parts(path: str) -> list[str | int]:
    return [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _PATH_PART.finditer(path)]


def _type_at(schema: type, path: str) -> msgspec.inspect.Type | None:
    """The declared type at a msgspec error path (``.a.b[0]``) of ``schema``, if it can be followed."""
    t: msgspec.inspect.Type = msgspec.inspect.type_info(schema)
    for part in _path_parts(path):
        t = _unwrap(t) or t
        if isinstance(t, msgspec.inspect.UnionType):  # ``X | None``: follow the X
            t = next((m for m in t.types if not isinstance(m, msgspec.inspect.NoneType)), t)
        if isinstance(part, int) and isinstance(t, (msgspec.inspect.ListType, msgspec.inspect.SetType,
                                                    msgspec.inspect.FrozenSetType, msgspec.inspect.VarTupleType)):
            t = t.item_type
        elif isinstance(part, str) and isinstance(t, msgspec.inspect.StructType):
            found = next((f.type for f in t.fields if f.encode_name == part), None)
            if found is None:
                return None
            t = found
        elif isinstance(part, str) and isinstance(t, msgspec.inspect.DictType):
            t = t.value_type
        else:
            return None
    return t


def _value_at(table: Any, path: str) -> Any:
    for part in _path_parts(path):
        try:
            table = table[part]
        except (KeyError, IndexError, TypeError):
            return None
    return table


def _choices(t: msgspec.inspect.Type | None) -> list[Any] | None:
    """The values an enum-like type accepts (``Literal[...]`` or an ``Enum``), else ``None``."""
    if isinstance(t, msgspec.inspect.UnionType):
        found = [c for m in t.types for c in (_choices(m) or [])]
        return found or None
    if isinstance(t, msgspec.inspect.LiteralType):
        return list(t.values)
    if isinstance(t, msgspec.inspect.EnumType):
        return [member.value for member in t.cls]
    return None


def _unwrap(t: msgspec.inspect.Type | None) -> msgspec.inspect.Type | None:
    """The constrained type under ``Annotated[..., Meta(description=..., extra=...)]``."""
    while isinstance(t, msgspec.inspect.Metadata):
        t = t.type
    return t


def plain_number(n: float) -> str:
    """``86400.0`` as ``86400``, ``1e-09`` as is: bounds and values as an operator writes them."""
    if isinstance(n, float) and n.is_integer() and abs(n) < 1e15:
        return str(int(n))
    return repr(n)


def accepted_range(t: msgspec.inspect.Type | None) -> str | None:
    """What a constrained number accepts, in words: ``from 1 to 20``, ``more than 0``, ...; ``None`` if unbounded."""
    t = _unwrap(t)
    if isinstance(t, msgspec.inspect.UnionType):  # ``X | None``: the X carries the bounds
        t = next((_unwrap(m) for m in t.types if not isinstance(m, msgspec.inspect.NoneType)), None)
    if not isinstance(t, (msgspec.inspect.IntType, msgspec.inspect.FloatType)):
        return None
    low = (plain_number(t.ge), "at least") if t.ge is not None else (
        (plain_number(t.gt), "more than") if t.gt is not None else None)
    high = (plain_number(t.le), "at most") if t.le is not None else (
        (plain_number(t.lt), "less than") if t.lt is not None else None)
    if low and high:
        if low[1] == "at least" and high[1] == "at most":
            return f"from {low[0]} to {high[0]}"
        return f"{low[1]} {low[0]} and {high[1]} {high[0]}"
    if low:
        return f"{low[0]} or more" if low[1] == "at least" else f"more than {low[0]}"
    if high:
        return f"{high[1]} {high[0]}"
    return None


_LENGTH = {"str": ("", "character"), "array": ("have ", "item"), "object": ("have ", "entry")}


def _range_error(schema: type, path: str, table: Any, full: str) -> tuple[str, str, str] | None:
    """A bound msgspec reported (``Expected `int` >= 1``) as the operator reads it.

    ``(message, fix, shown)``: ``must be at least 1 (got 0)``, ``set page_size to a
    value from 1 to 20; the default is 10`` and ``[plugins.search] page_size = 0``.
    """
    t = _unwrap(_type_at(schema, path))
    if isinstance(t, msgspec.inspect.UnionType):  # ``X | None``: the X carries the bounds
        t = next((_unwrap(m) for m in t.types if not isinstance(m, msgspec.inspect.NoneType)), None)
    given = _value_at(table, path)
    if isinstance(given, bool):
        return None  # a type error, reported as such
    table_key, _, leaf = full.rpartition(".")
    shown = f"[{table_key}] {leaf} = {_toml_value(given)}" if table_key else f"{leaf} = {_toml_value(given)}"
    default = _default_at(schema, path)
    tail = f"; the default is {_toml_value(default)}" if default not in (_NO_DEFAULT, None) else ""
    if isinstance(t, (msgspec.inspect.IntType, msgspec.inspect.FloatType)) and isinstance(given, (int, float)):
        words = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
        broken = next((op for op, ok in (("ge", t.ge is None or given >= t.ge), ("gt", t.gt is None or given > t.gt),
                                         ("le", t.le is None or given <= t.le), ("lt", t.lt is None or given < t.lt))
                       if not ok), None)
        if broken is None:
            return None
        message = f"must be {words[broken]} {plain_number(getattr(t, broken))} (got {plain_number(given)})"
        return message, f"set {leaf} to a value {accepted_range(t)}{tail}", shown
    length = _LENGTH.get(_length_kind(t) or "")
    if length is not None and isinstance(given, (str, list, dict)):
        lo, hi = getattr(t, "min_length", None), getattr(t, "max_length", None)
        verb, unit = length
        if lo is not None and len(given) < lo:
            message = f"must {verb or 'be '}at least {lo} {unit}{'s' if lo != 1 else ''}"
        elif hi is not None and len(given) > hi:
            message = f"must {verb or 'be '}at most {hi} {unit}{'s' if hi != 1 else ''}"
        else:
            return None
        message += f"{' long' if not verb else ''} (got {len(given)})"
        span = (f"from {lo} to {hi}" if lo is not None and hi is not None
                else f"at least {lo}" if lo is not None else f"at most {hi}")
        plural = "" if (hi if hi is not None else lo) == 1 and lo in (None, 1) else "s"
        return message, f"give {leaf} {span} {unit}{plural}", shown
    return None


def _length_kind(t: msgspec.inspect.Type | None) -> str | None:
    if isinstance(t, msgspec.inspect.StrType):
        return "str"
    if isinstance(t, (msgspec.inspect.ListType, msgspec.inspect.SetType, msgspec.inspect.VarTupleType)):
        return "array"
    if isinstance(t, msgspec.inspect.DictType):
        return "object"
    return None


_NO_DEFAULT = object()


def _default_at(schema: type, path: str) -> Any:
    """The declared default of the field at ``path`` (a struct field, not a list item), else ``_NO_DEFAULT``."""
    parts = _path_parts(path)
    if not parts or not isinstance(parts[-1], str):
        return _NO_DEFAULT
    parent = _unwrap(_type_at(schema, "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts[:-1])))
    if isinstance(parent, msgspec.inspect.UnionType):
        parent = next((m for m in parent.types if isinstance(m, msgspec.inspect.StructType)), None)
    if not isinstance(parent, msgspec.inspect.StructType):
        return _NO_DEFAULT
    found = next((f for f in parent.fields if f.encode_name == parts[-1]), None)
    if found is None or found.required:
        return _NO_DEFAULT
    if found.default is not msgspec.NODEFAULT:
        return found.default
    return found.default_factory() if found.default_factory is not msgspec.NODEFAULT else _NO_DEFAULT


def _toml_value(value: Any) -> str:
    """``value`` as TOML spells it, cut to one readable line (a 2,000-character caption is not repeated)."""
    from mediabot.core.tomlout import _value  # the same spelling ``config show`` prints

    text = plain_number(value) if isinstance(value, float) else _value(value)
    return text if len(text) <= 40 else text[:37] + "…"


_BOUND = re.compile(r"Expected (?P<type>\w+)(?: of length)? (?P<op>>=|<=|>|<) (?P<bound>\S+)$")


def _fix_for(message: str, leaf: str) -> str:
    m = re.match(r"Expected (.+?), got", message)
    if m:
        return f"set {leaf} to a value of type {m.group(1)}"
    m = _BOUND.match(message)
    if m:
        what = "the length of " if " of length " in message else ""
        return f"make {what}{leaf} {m.group('op')} {m.group('bound')}"
    if "Object missing required field" in message:
        return "add the missing key"
    return "see docs/configuration.md"


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or ``""`` when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _toml_type(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def struct_field_docs(schema: type) -> dict[str, str]:
    """Field descriptions from ``:param name:`` lines of a Struct's docstring."""
    docs: dict[str, str] = {}
    for m in re.finditer(r":param (\w+):\s*(.+?)(?=\n\s*:param |\n\s*\n|\Z)", schema.__doc__ or "", re.S):
        docs[m.group(1)] = " ".join(m.group(2).split())
    return docs

