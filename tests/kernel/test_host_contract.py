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


@pytest.mark.parametrize(("toml", "expected"), [
    ("[redis]\nmax_connections = 0", "[redis] max_connections = 0: must be at least 1 (got 0) "
     "(set max_connections to a value from 1 to 10000; the default is 64)"),
    ("[redis]\nsocket_timeout = 0.0", "[redis] socket_timeout = 0: must be at least 0.01 (got 0) "
     "(set socket_timeout to a value from 0.01 to 60; the default is 0.5)"),
    ("[mongo]\ntimeout_ms = -5", "[mongo] timeout_ms = -5: must be at least 10 (got -5) "
     "(set timeout_ms to a value from 10 to 600000; the default is 5000)"),
    ("[runtime]\nshutdown_deadline = -1.0", "[runtime] shutdown_deadline = -1: must be at least 0 (got -1) "
     "(set shutdown_deadline to a value from 0 to 3600; the default is 10)"),
    ("[bot]\nadmins = [5, 0]", "[bot] admins[1] = 0: must be at least 1 (got 0) "
     "(set admins[1] to a value from 1 to 9223372036854775807)"),
    ("[bot]\nowner = 99999999999999999999", None),
    ("[bot]\nowner = 0", "[bot] owner = 0: must be at least 1 (got 0) (set owner to a value from 1 to "
     "9223372036854775807)"),
    ("[bot]\nbutton_ttl = true", "bot.button_ttl: Expected float, got bool (set button_ttl to a value of type float)"),
    ("[telegram]\nconnect_timeout = 0.0", "[telegram] connect_timeout = 0: must be at least 0.01 (got 0) "
     "(set connect_timeout to a value from 0.01 to 3600; the default is 60)"),
    ("[catalog]\nchange_stream_length = 10", "[catalog] change_stream_length = 10: must be at least 100 (got 10) "
     "(set change_stream_length to a value from 100 to 100000000; the default is 100000)"),
    ("[telegram]\nsession_name = ''", "[telegram] session_name = \"\": must be at least 1 character long (got 0) "
     "(give session_name at least 1 character)"),
])
def test_out_of_range_kernel_settings_fail_config_check_naming_the_key_range_and_fix(run_cli, tmp_path, toml,
                                                                                  expected):
    config = tmp_path / "plugins.toml"
    config.write_text(toml + "\n")
    result = run_cli("config", "check", "--dev")
    assert result.returncode == 2, result.stdout
    [line] = error_lines(result.stderr)
    assert line.startswith("error: plugins.toml: ")
    if expected is not None:
        assert line == f"error: plugins.toml: {expected}"


@pytest.mark.parametrize(("toml", "expected"), [
    # The three values the audit found accepted (issue 23, item 29).
    ("[plugins.quota]\nenabled = true\nreap_interval = 1e-9",
     "[plugins.quota] reap_interval = 1e-09: must be at least 0.01 (got 1e-09) "
     "(set reap_interval to a value from 0.01 to 86400; the default is 60)"),
    ("[catalog]\nflush_interval = 1e-300", "[catalog] flush_interval = 1e-300: must be at least 0.01 (got 1e-300) "
     "(set flush_interval to a value from 0.01 to 3600; the default is 1)"),
    ("[catalog]\nflush_interval = 1e300", "[catalog] flush_interval = 1e+300: must be at most 3600 (got 1e+300) "
     "(set flush_interval to a value from 0.01 to 3600; the default is 1)"),
    ('[runtime]\ndata_dir = "/"', '[runtime] data_dir = "/": / is the root directory, not a place for the '
     "bot's files (give data_dir a directory of the bot's own, e.g. the default 'data')"),
    ('[runtime]\ndata_dir = "/etc/"', '[runtime] data_dir = "/etc/": /etc is a system directory, not a place for '
     "the bot's files (give data_dir a directory of the bot's own, e.g. the default 'data')"),
    ('[runtime]\ndata_dir = "/usr//lib/../"', '[runtime] data_dir = "/usr//lib/../": /usr is a system directory, '
     "not a place for the bot's files (give data_dir a directory of the bot's own, e.g. the default 'data')"),
    ('[telegram]\nsession_dir = "/proc/self/x"', '[telegram] session_dir = "/proc/self/x": /proc/self/x is inside '
     "a kernel file system, not a place for the bot's files (give session_dir a directory of the bot's own, "
     "e.g. the default 'session')"),
    ('[plugins.search]\nenabled = true\nindex_dir = "/var"', '[plugins.search] index_dir = "/var": /var is a '
     "system directory, not a place for the bot's files (give index_dir a directory of the bot's own, "
     "e.g. /var/lib/mediabot)"),
    ('[plugins.ops]\nenabled = true\nreleases_dir = "/"', '[plugins.ops] releases_dir = "/": / is the root '
     "directory, not a place for the bot's files (give releases_dir a directory of the bot's own, "
     "e.g. /var/lib/mediabot)"),
    ("[plugins.search]\nenabled = true\npage_size = 0", "[plugins.search] page_size = 0: must be at least 1 (got 0) "
     "(set page_size to a value from 1 to 20; the default is 10)"),
])
def test_intervals_and_directories_out_of_their_sane_range_fail_config_check(run_cli, tmp_path, toml, expected):
    (tmp_path / "plugins.toml").write_text(toml + "\n")
    result = run_cli("config", "check", "--dev")
    assert result.returncode == 2, result.stdout
    assert error_lines(result.stderr) == [f"error: plugins.toml: {expected}"]


def test_a_range_set_from_the_environment_names_the_variable(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text("[plugins.search]\nenabled = true\n")
    result = run_cli("config", "check", "--dev", env={"MEDIABOT__PLUGINS__SEARCH__PAGE_SIZE": "99"})
    assert error_lines(result.stderr) == [
        "error: environment variable MEDIABOT__PLUGINS__SEARCH__PAGE_SIZE: [plugins.search] page_size = 99: "
        "must be at most 20 (got 99) (set page_size to a value from 1 to 20; the default is 10)"]


def test_directories_of_the_deployments_own_pass(run_cli, tmp_path):
    (tmp_path / "plugins.toml").write_text('[runtime]\ndata_dir = "/var/lib/mediabot"\n'
                                           '[telegram]\nsession_dir = "session"\n')
    result = run_cli("config", "check", "--dev")
    assert result.returncode == 0, result.stderr


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
