"""mediabot: the public API for plugin authors.

Everything a plugin needs is importable from here, and nothing else is
promised: ``mediabot.core`` is the kernel's inside and may change.

It is typed (the package ships ``py.typed``; CI runs mypy, strict on these
modules). The services on :class:`App` with more than one implementation are
Protocols — :class:`Telegram` (``app.telegram``), :class:`Sessions`
(``app.sessions``), :class:`RateLimits` (``app.ratelimiter``), :class:`Clock`,
:class:`DatabaseProvider`; the others are the kernel's classes
(:class:`TaskSupervisor`, :class:`Delivery`, :class:`Gates`, :class:`Hooks`,
:class:`Metrics`, :class:`UserDirectory`, :class:`FileRepository`...).
See "The app: a typed API" in docs/plugins.md.
"""

from mediabot.catalog.changes import CatalogChange, ChangeFeed
from mediabot.catalog.files import FileRepository
from mediabot.catalog.models import BotUser, MediaFile, utcnow
from mediabot.catalog.placement import DatabaseUnavailable, InsertReport, Placement
from mediabot.catalog.releases import Reading, Release, parse_release, read_release
from mediabot.catalog.tokens import search_tokens, tokenize
from mediabot.catalog.users import UserDirectory
from mediabot.core.app import App
from mediabot.core.args import MAX_TELEGRAM_ID, parse_duration, parse_int, parse_user_id
from mediabot.core.autodelete import AutoDelete
from mediabot.core.callbacks import Callback, CallbackDataTooLong
from mediabot.core.cancellation import honour_cancellation
from mediabot.core.clihelp import app_command
from mediabot.core.clock import Clock
from mediabot.core.commands import Command
from mediabot.core.config import Directory
from mediabot.core.context import CallbackContext, CommandContext, UpdateContext, UsageError
from mediabot.core.delivery import Delivery, DeliveryReport, human_size
from mediabot.core.errors import ConfigError, MediabotError, PluginLoadError, PluginStartupError
from mediabot.core.factory import create_app, open_app
from mediabot.core.gates import Gates
from mediabot.core.host import Hooks
from mediabot.core.interfaces import RateLimits, Sessions, Telegram
from mediabot.core.jobs import JOB_ACTIVE, JobLease, JobProgress, JobRecord, Jobs, JobState, RedisWatch
from mediabot.core.labels import safe_text
from mediabot.core.metrics import Metrics
from mediabot.core.middleware import Incoming, Middleware
from mediabot.core.notices import Notices
from mediabot.core.periodic import PeriodicJob
from mediabot.core.plugin import EmptyConfig, PluginContext, PluginMeta, Secret, hookimpl, hookspec
from mediabot.core.plugin_storage import PluginStorage, StorageUnavailable
from mediabot.core.rate import Decision, Rate
from mediabot.core.routing import Handler, update_kind
from mediabot.core.storage import DatabaseProvider, check_mongo_uri
from mediabot.core.supervisor import TaskSupervisor
from mediabot.core.telegram.exceptions import (
    FloodWaitTooLong,
    PermanentTelegramError,
    TelegramError,
    TransientTelegramError,
)
from mediabot.core.types import (
    AlbumItem,
    Button,
    CallbackQuery,
    Chat,
    ChatMember,
    ChatMemberUpdated,
    GateRefusal,
    HealthReport,
    InlineQuery,
    InlineResult,
    InviteLink,
    Invoice,
    JoinRequest,
    Keyboard,
    Media,
    MemberStatus,
    Message,
    MessageEdited,
    MessagesDeleted,
    Payment,
    PreCheckoutQuery,
    Reservation,
    Update,
    User,
)

__version__ = "0.1.0"

__all__ = [
    "JOB_ACTIVE",
    "MAX_TELEGRAM_ID",
    "AlbumItem",
    "App",
    "AutoDelete",
    "BotUser",
    "Button",
    "Callback",
    "CallbackContext",
    "CallbackDataTooLong",
    "CallbackQuery",
    "CatalogChange",
    "ChangeFeed",
    "Chat",
    "ChatMember",
    "ChatMemberUpdated",
    "Clock",
    "Command",
    "CommandContext",
    "ConfigError",
    "DatabaseProvider",
    "DatabaseUnavailable",
    "Decision",
    "Delivery",
    "DeliveryReport",
    "Directory",
    "EmptyConfig",
    "FileRepository",
    "FloodWaitTooLong",
    "GateRefusal",
    "Gates",
    "Handler",
    "HealthReport",
    "Hooks",
    "Incoming",
    "InlineQuery",
    "InlineResult",
    "InsertReport",
    "InviteLink",
    "Invoice",
    "JobLease",
    "JobProgress",
    "JobRecord",
    "JobState",
    "Jobs",
    "JoinRequest",
    "Keyboard",
    "Media",
    "MediaFile",
    "MediabotError",
    "MemberStatus",
    "Message",
    "MessageEdited",
    "MessagesDeleted",
    "Metrics",
    "Middleware",
    "Notices",
    "Payment",
    "PeriodicJob",
    "PermanentTelegramError",
    "Placement",
    "PluginContext",
    "PluginLoadError",
    "PluginMeta",
    "PluginStartupError",
    "PluginStorage",
    "PreCheckoutQuery",
    "Rate",
    "RateLimits",
    "Reading",
    "RedisWatch",
    "Release",
    "Reservation",
    "Secret",
    "Sessions",
    "StorageUnavailable",
    "TaskSupervisor",
    "Telegram",
    "TelegramError",
    "TransientTelegramError",
    "Update",
    "UpdateContext",
    "UsageError",
    "User",
    "UserDirectory",
    "app_command",
    "check_mongo_uri",
    "create_app",
    "honour_cancellation",
    "hookimpl",
    "hookspec",
    "human_size",
    "open_app",
    "parse_duration",
    "parse_int",
    "parse_release",
    "parse_user_id",
    "read_release",
    "safe_text",
    "search_tokens",
    "tokenize",
    "update_kind",
    "utcnow",
]
