"""mediabot: the public API for plugin authors.

Everything a plugin needs is importable from here, and nothing else is
promised: ``mediabot.core`` is the kernel's inside and may change.
"""

from mediabot.catalog.files import FileRepository
from mediabot.catalog.models import BotUser, MediaFile
from mediabot.catalog.placement import DatabaseUnavailable, InsertReport, Placement
from mediabot.catalog.tokens import search_tokens, tokenize
from mediabot.catalog.users import UserDirectory
from mediabot.core.app import App
from mediabot.core.callbacks import Callback, CallbackDataTooLong
from mediabot.core.commands import Command
from mediabot.core.context import CallbackContext, CommandContext, UsageError
from mediabot.core.errors import ConfigError, MediabotError, PluginLoadError, PluginStartupError
from mediabot.core.factory import create_app
from mediabot.core.plugin import EmptyConfig, PluginContext, PluginMeta, Secret, hookimpl
from mediabot.core.storage import DatabaseProvider
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
    HealthReport,
    InlineQuery,
    InlineResult,
    Keyboard,
    Media,
    Message,
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
    "Chat",
    "Command",
    "CommandContext",
    "ConfigError",
    "DatabaseProvider",
    "DatabaseUnavailable",
    "EmptyConfig",
    "FileRepository",
    "FloodWaitTooLong",
    "HealthReport",
    "InlineQuery",
    "InlineResult",
    "InsertReport",
    "Keyboard",
    "Media",
    "MediaFile",
    "MediabotError",
    "Message",
    "PermanentTelegramError",
    "Placement",
    "PluginContext",
    "PluginLoadError",
    "PluginMeta",
    "PluginStartupError",
    "Secret",
    "TelegramError",
    "TransientTelegramError",
    "Update",
    "UsageError",
    "User",
    "UserDirectory",
    "create_app",
    "hookimpl",
    "search_tokens",
    "tokenize",
]
