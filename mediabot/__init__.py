"""mediabot: the public API for plugin authors.

Everything a plugin needs is importable from here, and nothing else is
promised: ``mediabot.core`` is the kernel's inside and may change.
"""

from mediabot.core.app import App
from mediabot.core.commands import Command
from mediabot.core.errors import ConfigError, MediabotError, PluginLoadError, PluginStartupError
from mediabot.core.factory import create_app
from mediabot.core.plugin import EmptyConfig, PluginContext, PluginMeta, Secret, hookimpl
from mediabot.core.storage import DatabaseProvider
from mediabot.core.types import (
    Button,
    CallbackQuery,
    Chat,
    HealthReport,
    InlineQuery,
    Keyboard,
    Media,
    Message,
    Update,
    User,
)

__version__ = "0.1.0"

__all__ = [
    "App",
    "Button",
    "CallbackQuery",
    "Chat",
    "Command",
    "ConfigError",
    "DatabaseProvider",
    "EmptyConfig",
    "HealthReport",
    "InlineQuery",
    "Keyboard",
    "Media",
    "MediabotError",
    "Message",
    "PluginContext",
    "PluginLoadError",
    "PluginMeta",
    "PluginStartupError",
    "Secret",
    "Update",
    "User",
    "create_app",
    "hookimpl",
]
