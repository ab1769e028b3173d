"""The plugin host's contract as an operator meets it: failing starts, broken tables, what gets imported."""

from __future__ import annotations

import socket

import pytest

CREDENTIALS = {"MEDIABOT_API_ID": "12345", "MEDIABOT_API_HASH": "0123456789abcdef0123456789abcdef",
               "MEDIABOT_BOT_TOKEN": "12345:AAAA", "MEDIABOT_CALLBACK_SECRET": "k" * 32}

BAD_PROVIDER = '''
from mediabot import PluginMeta, hookimpl

class Router:
    meta = PluginMeta(name="badrouter", description="A database provider that cannot build its router.")

    def __init__(self, ctx):
        pass

    @hookimpl
    async def mediabot_database_provider(self, app):
        raise ValueError("cannot parse the URI of database 'main'")
'''

IMPORT_SPY = '''
import os
from pathlib import Path
Path(os.environ["SPY_MARKER"]).write_text("imported")
from mediabot import PluginMeta

class Spy:
    meta = PluginMeta(name="spy", description="Records that it was imported.")

    def __init__(self, ctx):
        pass
'''

RANGE = '''
import msgspec
from mediabot import ConfigError, PluginMeta

class RangeConfig(msgspec.Struct, forbid_unknown_fields=True):
    """:param low: lower bound.
    :param high: upper bound."""
    low: int = 1
    high: int = 10

    def validate(self):
        if self.low > self.high:
            raise ConfigError(f"low ({self.low}) is above high ({self.high})", key="low",
                              fix="make low <= high")

class Ranged:
    meta = PluginMeta(name="ranged", description="Has a cross-field rule.", config=RangeConfig)

    def __init__(self, ctx):
        pass
'''


def free_port() -> int:
    """A local port where nothing listens (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# -- starting -------------------------------------------------------------------------

def test_a_raising_database_provider_stops_run_with_one_line_naming_the_plugin(run_cli, make_dist, tmp_path):
    make_dist("mb-badrouter", {"badrouter": BAD_PROVIDER}, {"badrouter": "badrouter:Router"})
    (tmp_path / "plugins.toml").write_text("[plugins.badrouter]\nenabled = true\n")
    result = run_cli("run", env=CREDENTIALS)
    assert result.returncode == 1, result.stderr
    assert error_lines(result.stderr) == [
        "error: plugin 'badrouter' failed to start: ValueError: cannot parse the URI of database 'main'"]
    assert "Traceback" not in result.stderr


def test_unreachable_mongodb_at_start_is_one_line_with_address_and_timeout(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("[mongo]\ntimeout_ms = 300\n")
    port = free_port()
    env = {**CREDENTIALS, "MEDIABOT_MONGO_URI": f"mongodb://admin:hunter2@127.0.0.1:{port}/"}
    result = run_cli("run", env=env)
    assert result.returncode == 1, result.stderr
    [line] = error_lines(result.stderr)
    assert line.startswith(f"error: MongoDB at mongodb://admin:***@127.0.0.1:{port}/ did not answer within 0.3s "
                           "([mongo] timeout_ms): ServerSelectionTimeoutError")
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_unreachable_redis_at_start_is_one_line_with_address_and_timeout(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("")
    port = free_port()
    env = {**CREDENTIALS, "MEDIABOT_REDIS_URL": f"redis://:hunter2@127.0.0.1:{port}/0"}
    result = run_cli("run", env=env)
    assert result.returncode == 1, result.stderr
    [line] = error_lines(result.stderr)
    assert line.startswith(f"error: Redis at redis://:***@127.0.0.1:{port}/0 did not answer 3 pings of 0.5s each "
                           "([redis] socket_timeout): ConnectionError")
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


# -- plugin subcommands and `mediabot plugins` ---------------------------------------

def test_a_plugin_subcommand_with_an_invalid_table_prints_the_config_error(run_cli, make_dist, tmp_path,
                                                                           greeter_source):
    make_dist("mb-greeter", {"greeter": greeter_source}, {"greeter": "greeter:Greeter"})
    config = tmp_path / "plugins.toml"
    config.write_text("[plugins.greeter]\nenabled = true\ngreeting = 5\n")
    result = run_cli("greet")
    assert result.returncode == 2, result.stderr
    assert "No such command" not in result.stderr
    first = error_lines(result.stderr)[0]
    assert first == ("error: plugins.toml: plugins.greeter.greeting: Expected str, got int "
                     "(set greeting to a value of type str)")
    config.write_text('[plugins.greeter]\nenabled = true\ngreeting = "hey"\n')
    fixed = run_cli("greet")
    assert (fixed.returncode, fixed.stdout.strip()) == (0, "greeter says hey")


def test_an_unknown_command_stays_no_such_command_when_the_config_is_valid(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("")
    result = run_cli("greet")
    assert result.returncode == 2 and "No such command 'greet'" in result.stderr


def test_plugins_marks_a_plugin_whose_table_is_invalid_and_says_why(run_cli, make_dist, tmp_path,
                                                                   greeter_source):
    make_dist("mb-greeter", {"greeter": greeter_source}, {"greeter": "greeter:Greeter"})
    config = tmp_path / "plugins.toml"
    config.write_text("[plugins.greeter]\nenabled = true\ngreting = 'hi'\n")
    result = run_cli("plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("greeter "))
    assert lines[row].split()[3] == "yes!"
    assert "/hello" in lines[row]  # still listed with its commands
    assert lines[row + 1].strip() == ("invalid config: plugins.toml: plugins.greeter.greting: unknown key 'greting' "
                                      "(did you mean 'greeting'?) (valid keys here: greeting)")


def test_run_and_config_check_never_import_a_disabled_plugin_but_the_listing_does(run_cli, make_dist, tmp_path):
    make_dist("mb-spy", {"spymod": IMPORT_SPY}, {"spy": "spymod:Spy"})
    marker = tmp_path / "imported"
    (tmp_path / "plugins.toml").write_text("[plugins.spy]\nenabled = false\n")
    env = {"SPY_MARKER": str(marker)}
    assert run_cli("config", "check", "--dev", env=env).returncode == 0
    assert run_cli("--help", env=env).returncode == 0
    assert not marker.exists()
    # The listing shows every installed plugin's commands and hooks: it imports them all (documented).
    assert run_cli("plugins", env=env).returncode == 0
    assert marker.exists()


# -- errors caused by the environment --------------------------------------------------

def test_an_unknown_plugin_set_by_an_environment_variable_names_the_variable(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("")
    result = run_cli("config", "check", "--dev", env={"MEDIABOT__PLUGINS__SERACH__PAGE_SIZE": "20"})
    assert result.returncode == 2
    [line] = error_lines(result.stderr)
    assert line.startswith("error: environment variable MEDIABOT__PLUGINS__SERACH__PAGE_SIZE: plugins.serach: "
                           "unknown plugin 'serach' (did you mean 'search'?)")
    assert "plugins.toml" not in line


def test_a_cross_field_error_says_which_of_its_keys_the_environment_set(run_cli, make_dist, tmp_path):
    make_dist("mb-ranged", {"ranged": RANGE}, {"ranged": "ranged:Ranged"})
    config = tmp_path / "plugins.toml"
    config.write_text("[plugins.ranged]\nenabled = true\nlow = 5\n")
    result = run_cli("config", "check", "--dev", env={"MEDIABOT__PLUGINS__RANGED__HIGH": "3"})
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        "error: plugins.toml: plugins.ranged.low: low (5) is above high (3); set in the environment: "
        "plugins.ranged.high by MEDIABOT__PLUGINS__RANGED__HIGH (make low <= high)"]


def test_an_enum_error_lists_the_valid_values(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("")
    result = run_cli("config", "check", "--dev", env={"MEDIABOT__RUNTIME__LOG_LEVEL": "VERBOSE"})
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        "error: environment variable MEDIABOT__RUNTIME__LOG_LEVEL: runtime.log_level: Invalid enum value "
        "'VERBOSE' (valid values: 'DEBUG', 'ERROR', 'INFO', 'WARNING')"]


@pytest.mark.parametrize(("toml", "key", "fix"), [
    ("[redis]\nmax_connections = 0", "redis.max_connections", "make max_connections >= 1"),
    ("[redis]\nsocket_timeout = 0.0", "redis.socket_timeout", "make socket_timeout > 0.0"),
    ("[mongo]\ntimeout_ms = -5", "mongo.timeout_ms", "make timeout_ms >= 1"),
    ("[runtime]\nshutdown_deadline = -1.0", "runtime.shutdown_deadline", "make shutdown_deadline >= 0.0"),
    ("[bot]\nadmins = [5, 0]", "bot.admins[1]", "make admins[1] >= 1"),
    ("[bot]\nowner = 99999999999999999999", None, None),
    ("[telegram]\nconnect_timeout = 0.0", "telegram.connect_timeout", "make connect_timeout > 0.0"),
    ("[catalog]\nchange_stream_length = 10", "catalog.change_stream_length", "make change_stream_length >= 100"),
])
def test_out_of_range_kernel_settings_fail_config_check_naming_the_key(run_cli, tmp_path, toml, key, fix):
    config = tmp_path / "plugins.toml"
    config.write_text(toml + "\n")
    result = run_cli("config", "check", "--dev")
    assert result.returncode == 2, result.stdout
    [line] = error_lines(result.stderr)
    assert line.startswith("error: plugins.toml: ")
    if key is not None:
        assert f": {key}: " in line and line.endswith(f"({fix})")


def test_a_malformed_mongodb_uri_fails_config_check_without_echoing_the_password(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("")
    result = run_cli("config", "check", "--dev", env={"MEDIABOT_MONGO_URI": "mongodb://app:hunter2@db:27O17/"})
    assert result.returncode == 2
    [line] = error_lines(result.stderr)
    assert line.startswith("error: environment: MEDIABOT_MONGO_URI: not a valid MongoDB URI: ")
    assert "hunter2" not in result.stderr


def test_a_redis_url_that_is_not_redis_fails_config_check(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("")
    result = run_cli("config", "check", "--dev", env={"MEDIABOT_REDIS_URL": "http://x"})
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        "error: environment: MEDIABOT_REDIS_URL: not a Redis URL (it must start with redis://, rediss:// or "
        "unix://) (export MEDIABOT_REDIS_URL=redis://host:6379/0)"]
