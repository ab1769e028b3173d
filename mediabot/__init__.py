"""mediabot: the public API for plugin authors.

Everything a plugin needs is importable from here, and nothing else is
promised: ``mediabot.core`` is the kernel's inside and may change.
"""

from mediabot.catalog.changes import CatalogChange, ChangeFeed
from mediabot.catalog.files import FileRepository
from mediabot.catalog.models import BotUser, MediaFile
from mediabot.catalog.placement import DatabaseUnavailable, InsertReport, Placement
from mediabot.catalog.tokens import search_tokens, tokenize
from mediabot.catalog.users import UserDirectory
from mediabot.core.app import App
from mediabot.core.callbacks import Callback, CallbackDataTooLong
from mediabot.core.commands import Command
from mediabot.core.context import CallbackContext, CommandContext, UsageError
from mediabot.core.delivery import DeliveryReport, human_size
from mediabot.core.errors import ConfigError, MediabotError, PluginLoadError, PluginStartupError
from mediabot.core.factory import create_app, open_app
from mediabot.core.plugin import EmptyConfig, PluginContext, PluginMeta, Secret, hookimpl, hookspec
from mediabot.core.plugin_storage import PluginStorage, StorageUnavailable
from mediabot.core.redis.ratelimit import Decision, Rate
from mediabot.core.storage import DatabaseProvider
from mediabot.core.telegram.clock import Clock
from mediabot.core.telegram.exceptions import (
    FloodWaitTooLong,
    PermanentTelegramError,
    TelegramError,
    TransientTelegramError,
)
from mediabot.core.types import (
    Button,
    CallbackQuery,
    Chat,
    GateRefusal,
    HealthReport,
    InlineQuery,
    InlineResult,
    Keyboard,
    Media,
    Message,
    MessageEdited,
    MessagesDeleted,
    Reservation,
    Update,
    User,
)

__version__ = "0.1.0"

__all__ = [
    "App",
    "BotUser",
    "Button",
    "Callback",
    "CallbackContext",
    "CallbackDataTooLong",
    "CallbackQuery",
    "CatalogChange",
    "ChangeFeed",
    "Chat",
    "Clock",
    "Command",
    "CommandContext",
    "ConfigError",
    "DatabaseProvider",
    "DatabaseUnavailable",
    "Decision",
    "DeliveryReport",
    "EmptyConfig",
    "FileRepository",
    "FloodWaitTooLong",
    "GateRefusal",
    "HealthReport",
    "InlineQuery",
    "InlineResult",
    "InsertReport",
    "Keyboard",
    "Media",
    "MediaFile",
    "MediabotError",
    "Message",
    "MessageEdited",
    "MessagesDeleted",
    "PermanentTelegramError",
    "Placement",
    "PluginContext",
    "PluginLoadError",
    "PluginMeta",
    "PluginStartupError",
    "PluginStorage",
    "Rate",
    "Reservation",
    "Secret",
    "StorageUnavailable",
    "TelegramError",
    "TransientTelegramError",
    "Update",
    "UsageError",
    "User",
    "UserDirectory",
    "create_app",
    "hookimpl",
    "hookspec",
    "human_size",
    "open_app",
    "search_tokens",
    "tokenize",
]
