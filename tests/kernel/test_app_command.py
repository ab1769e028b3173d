"""mediabot.app_command / ctx.app_command: a plugin's async subcommand on an opened app, through the real CLI."""

from __future__ import annotations

import pytest

NOTES = '''
import click
import msgspec
from mediabot import PluginMeta, app_command, hookimpl

class NotesConfig(msgspec.Struct, forbid_unknown_fields=True):
    """:param prefix: put before every note."""
    prefix: str = "note"

class Notes:
    meta = PluginMeta(name="notes", description="keeps notes", config=NotesConfig, needs=("mongo",))

    def __init__(self, ctx):
        self.ctx = ctx
        self.notes = ctx.storage.collection("notes")  # a handle taken before anything is open

    @hookimpl
    def mediabot_cli(self, cli, config):
        @cli.command("notes-add")
        @click.argument("text")
        @click.option("--times", type=int, default=1)
        @self.ctx.app_command
        async def add(ctx, text, times):
            """Store a note."""
            mine = ctx.app.plugin(ctx.name)  # the instance of the opened app: its handles work
            for _ in range(times):
                await mine.notes.insert_one({"text": f"{ctx.config.prefix}: {text}"})
            click.echo(f"stored {times}; telegram: {ctx.app.gateway}")

        @cli.command("notes-list")
        @app_command(config, plugin="notes")  # the same, for code without a ctx
        async def list_notes(ctx):
            """Print the notes."""
            async for doc in ctx.storage.collection("notes").find().sort("_id", 1):
                click.echo(doc["text"])

        @cli.command("notes-stale")
        @self.ctx.app_command
        async def stale(ctx):
            """A mistake: the handle of the app that only listed the commands."""
            await self.notes.count_documents({})

        @cli.command("notes-elsewhere")
        @app_command(config, plugin="other")
        async def elsewhere(ctx):
            """Asks for a plugin that is not enabled."""
'''


@pytest.fixture
def notes_cli(make_dist, run_cli, tmp_path, mongo_uri, mongo_db_name):
    make_dist("mb-notes", {"notesmod": NOTES}, {"notes": "notesmod:Notes"})
    (tmp_path / "plugins.toml").write_text('[plugins.notes]\nenabled = true\nprefix = "memo"\n')
    env = {"MEDIABOT_MONGO_URI": mongo_uri, "MEDIABOT__MONGO__DATABASE": mongo_db_name}
    return lambda *args: run_cli(*args, env=env)


def test_a_subcommand_gets_its_plugins_config_and_storage_on_an_opened_app(notes_cli):
    added = notes_cli("notes-add", "buy milk", "--times", "2")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "stored 2; telegram: None\n"  # opened without Telegram
    listed = notes_cli("notes-list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "memo: buy milk\nmemo: buy milk\n"  # [plugins.notes] prefix, the plugin's collection


def test_the_subcommands_help_is_the_coroutines_docstring(notes_cli):
    shown = notes_cli("notes-add", "--help")
    assert shown.returncode == 0, shown.stderr
    assert "Store a note." in shown.stdout and "--times INTEGER" in shown.stdout


def test_a_handle_of_the_listing_app_says_it_was_used_before_the_app_opened(notes_cli):
    result = notes_cli("notes-stale")
    assert result.returncode != 0
    assert ("StorageUnavailable: plugin 'notes': MongoDB used before the app opened its resources"
            in result.stderr)
    assert "through the ctx a subcommand receives from app_command" in result.stderr


def test_a_subcommand_for_a_plugin_that_is_not_enabled_is_a_config_error(notes_cli):
    result = notes_cli("notes-elsewhere")
    assert result.returncode == 2
    assert result.stderr == ("error: plugins.toml: plugins.other.enabled: this command needs plugin 'other', "
                             "which is not enabled (set enabled = true)\n")
