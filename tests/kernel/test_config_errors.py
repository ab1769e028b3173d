"""Bad configuration: exit code 2, one line naming file, key and fix, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def check_fails(result, *must_contain: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    err = result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert len(err.splitlines()) == 1, err
    for text in must_contain:
        assert text in err, err
    return err


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plugins.toml"
    path.write_text(text)
    return path


def test_unknown_plugin_suggests_the_installed_one(run_cli, tmp_path):
    path = write(tmp_path, "[plugins.serch]\nenabled = true\n")
    err = check_fails(run_cli("config", "check", "--dev", "--config", str(path)))
    assert "plugins.serch" in err and "did you mean 'search'" in err and str(path) in err


def test_unknown_key_suggests_the_right_one(run_cli, tmp_path):
    path = write(tmp_path, "[plugins.search]\nenabled = true\npage_sise = 5\n")
    err = check_fails(run_cli("config", "check", "--dev", "--config", str(path)))
    assert "plugins.search.page_sise" in err and "did you mean 'page_size'" in err


def test_unknown_kernel_key_and_section(run_cli, tmp_path):
    path = write(tmp_path, "[runtime]\nshutdown_dedline = 3\n")
    check_fails(run_cli("config", "check", "--dev", "--config", str(path)),
                "runtime.shutdown_dedline", "did you mean 'shutdown_deadline'")
    path = write(tmp_path, "[bott]\nname = 'x'\n")
    check_fails(run_cli("config", "check", "--dev", "--config", str(path)), "[bott]", "did you mean 'bot'")


def test_wrong_type_names_key_and_expected_type(run_cli, tmp_path):
    path = write(tmp_path, '[plugins.search]\nenabled = true\npage_size = "ten"\n')
    check_fails(run_cli("config", "check", "--dev", "--config", str(path)),
                "plugins.search.page_size", "Expected int, got str", "set page_size to a value of type int")


def test_wrong_type_from_environment_names_the_variable(run_cli, tmp_path):
    path = write(tmp_path, "[plugins.search]\nenabled = true\n")
    err = check_fails(run_cli("config", "check", "--dev", "--config", str(path),
                              env={"MEDIABOT__PLUGINS__SEARCH__PAGE_SIZE": "lots"}))
    assert "MEDIABOT__PLUGINS__SEARCH__PAGE_SIZE" in err and "page_size" in err


def missing_secret_lines(result) -> list[str]:
    """The error's lines: a header, then one ``export NAME=...  # what; needed by who`` per variable."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    header, *rest = result.stderr.strip().splitlines()
    assert header.startswith("error: environment: ") and "never read from plugins.toml" in header, header
    return rest


def test_missing_required_secrets_are_one_line_each_naming_each_variable_once(run_cli, tmp_path):
    path = write(tmp_path, "[plugins.search]\nenabled = true\n")
    lines = missing_secret_lines(run_cli("config", "check", "--config", str(path)))
    # Every missing secret in one run, not one per start; each on its own line, named once there.
    names = ["MEDIABOT_API_ID", "MEDIABOT_API_HASH", "MEDIABOT_BOT_TOKEN", "MEDIABOT_CALLBACK_SECRET",
             "MEDIABOT_MONGO_URI"]
    assert [line.split("=", 1)[0] for line in lines] == [f"  export {n}" for n in names]
    for name, line in zip(names, lines, strict=True):
        assert line.count(name) == 1 and line.count("MEDIABOT_") == 1 and len(line) < 160, line
        assert "# " in line and "needed by " in line, line  # what it is, and who needs it
    assert "bot token from @BotFather; needed by the kernel" in lines[2]
    env = {"MEDIABOT_API_ID": "1", "MEDIABOT_API_HASH": "h", "MEDIABOT_BOT_TOKEN": "t",
           "MEDIABOT_CALLBACK_SECRET": "s" * 32}
    [line] = missing_secret_lines(run_cli("config", "check", "--config", str(path), env=env))
    assert line == "  export MEDIABOT_MONGO_URI=...  # MongoDB URI, e.g. mongodb://host:27017; needed by search"


@pytest.mark.parametrize("api_id", ["abc", "12.5", "-3", "0", "99999999999"])
def test_an_api_id_that_is_not_a_number_fails_config_check_not_the_first_start(run_cli, tmp_path, api_id):
    env = {"MEDIABOT_API_ID": api_id, "MEDIABOT_API_HASH": "h", "MEDIABOT_BOT_TOKEN": "t",
           "MEDIABOT_CALLBACK_SECRET": "s" * 32}
    err = check_fails(run_cli("config", "check", env=env), "MEDIABOT_API_ID", "not a Telegram API id")
    assert api_id not in err.split("MEDIABOT_API_ID", 1)[1].split("(")[0]  # the value is never echoed
    assert run_cli("config", "check", env={**env, "MEDIABOT_API_ID": "1234567"}).returncode == 0


def test_plugin_secret_missing(run_cli, make_dist, tmp_path):
    make_dist("mb-keyed", {"keyed": """
        from mediabot import PluginMeta, Secret
        class Keyed:
            meta = PluginMeta(name="keyed", description="needs a key",
                              secrets=(Secret(env="KEYED_API_KEY", description="the API key"),))
            def __init__(self, ctx): pass
    """}, {"keyed": "keyed:Keyed"})
    path = write(tmp_path, "[plugins.keyed]\nenabled = true\n")
    [line] = missing_secret_lines(run_cli("config", "check", "--dev", "--config", str(path)))
    assert line == "  export KEYED_API_KEY=...  # the API key; needed by keyed"
    ok = run_cli("config", "check", "--dev", "--config", str(path), env={"KEYED_API_KEY": "x"})
    assert ok.returncode == 0, ok.stderr


def test_a_schema_validate_method_reports_keys_that_must_agree(run_cli, make_dist, tmp_path):
    make_dist("mb-ranged", {"ranged": """
        import msgspec
        from mediabot import ConfigError, PluginMeta
        class RangedConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
            low: int = 1
            high: int = 10
            def validate(self):
                if self.low >= self.high:
                    raise ConfigError("low must be below high", key="low", fix="e.g. low = 1, high = 10")
        class Ranged:
            meta = PluginMeta(name="ranged", description="two numbers", config=RangedConfig)
            def __init__(self, ctx): pass
    """}, {"ranged": "ranged:Ranged"})
    path = write(tmp_path, "[plugins.ranged]\nenabled = true\nlow = 20\n")
    err = check_fails(run_cli("config", "check", "--dev", "--config", str(path)))
    assert err == f"error: {path}: plugins.ranged.low: low must be below high (e.g. low = 1, high = 10)"
    err = check_fails(run_cli("config", "check", "--dev", "--config", str(path),
                              env={"MEDIABOT__PLUGINS__RANGED__LOW": "30"}))
    assert "environment variable MEDIABOT__PLUGINS__RANGED__LOW" in err
    path = write(tmp_path, "[plugins.ranged]\nenabled = true\nlow = 2\n")
    assert run_cli("config", "check", "--dev", "--config", str(path)).returncode == 0


def _deps(make_dist, graph: dict[str, tuple[str, ...]]) -> None:
    modules, eps = {}, {}
    for name, requires in graph.items():
        modules[f"dep_{name}"] = f"""
            from mediabot import PluginMeta
            class P:
                meta = PluginMeta(name={name!r}, description="x", requires={requires!r})
                def __init__(self, ctx): pass
        """
        eps[name] = f"dep_{name}:P"
    make_dist("mb-deps", modules, eps)


def test_dependency_cycle_names_the_plugins(run_cli, make_dist, tmp_path):
    _deps(make_dist, {"alpha": ("beta",), "beta": ("gamma",), "gamma": ("alpha",)})
    path = write(tmp_path, "".join(f"[plugins.{n}]\nenabled = true\n" for n in ("alpha", "beta", "gamma")))
    err = check_fails(run_cli("config", "check", "--dev", "--config", str(path)), "cycle")
    assert "alpha -> beta -> gamma -> alpha" in err


def test_missing_dependency_says_how_to_enable_it(run_cli, make_dist, tmp_path):
    _deps(make_dist, {"alpha": ("beta",), "beta": ()})
    path = write(tmp_path, "[plugins.alpha]\nenabled = true\n")
    check_fails(run_cli("config", "check", "--dev", "--config", str(path)),
                "'alpha' requires 'beta'", "[plugins.beta] enabled = true")


def test_dependency_not_installed(run_cli, make_dist, tmp_path):
    _deps(make_dist, {"alpha": ("nowhere",)})
    path = write(tmp_path, "[plugins.alpha]\nenabled = true\n")
    check_fails(run_cli("config", "check", "--dev", "--config", str(path)), "'nowhere'", "not installed")


def test_invalid_toml_names_the_line(run_cli, tmp_path):
    path = write(tmp_path, "[plugins.search\nenabled = true\n")
    check_fails(run_cli("config", "check", "--dev", "--config", str(path)), "invalid TOML", "line 1", str(path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode; "
                    "the unreadable case is covered by a directory passed as the file below")
def test_unreadable_file(run_cli, tmp_path):
    path = write(tmp_path, "[bot]\n")
    path.chmod(0)
    check_fails(run_cli("config", "check", "--dev", "--config", str(path)), "cannot read")


def test_unreadable_path_and_missing_file(run_cli, tmp_path):
    check_fails(run_cli("config", "check", "--dev", "--config", str(tmp_path / "nope.toml")),
                "file not found", "--config")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    check_fails(run_cli("config", "check", "--dev", "--config", str(binary)), "cannot read the file")


def test_config_path_from_environment(run_cli, tmp_path):
    path = write(tmp_path, "[plugins.search]\nenabled = 1\n")
    check_fails(run_cli("config", "check", "--dev", env={"MEDIABOT_CONFIG": str(path)}),
                "plugins.search.enabled", "true or false")


def test_valid_file_passes_and_lists_start_order(run_cli, tmp_path):
    path = write(tmp_path, "[plugins.search]\nenabled = true\n[plugins.ops]\nenabled = true\n")
    result = run_cli("config", "check", "--dev", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert "ops, search" in result.stdout


@pytest.mark.parametrize(("text", "key"), [
    ("[bot]\nbutton_ttl = nan\n", "bot.button_ttl"),
    ("[runtime]\nshutdown_deadline = inf\n", "runtime.shutdown_deadline"),
    ("[plugins.search]\nenabled = true\ncache_ttl = -inf\n", "plugins.search.cache_ttl"),
])
def test_nan_and_infinity_are_config_errors_naming_the_key(run_cli, tmp_path, text, key):
    path = write(tmp_path, text)
    check_fails(run_cli("config", "check", "--dev", "--config", str(path)), key, "not a usable number",
                "give a finite number")


def test_the_guides_config_constraints_example_gives_the_error_it_shows(run_cli, make_dist, tmp_path, guide_block):
    # The schema of docs/plugins.md "Config constraints", as written there, in an installed plugin.
    schema = guide_block("constraints-example")
    make_dist("mb-notes", {"notes": schema + '''
from mediabot import PluginMeta
class Notes:
    meta = PluginMeta(name="notes", description="keeps notes", config=NotesConfig)
'''}, {"notes": "notes:Notes"})
    shown = guide_block("constraints-example", "text").strip()
    write(tmp_path, "[plugins.notes]\nenabled = true\npage_size = 0\n")
    assert check_fails(run_cli("config", "check", "--dev")) == shown
    # Each declared bound holds without a validate(): the upper one, a float's, the directory.
    write(tmp_path, "[plugins.notes]\nenabled = true\npage_size = 51\n")
    check_fails(run_cli("config", "check", "--dev"), "[plugins.notes] page_size = 51: must be at most 50 (got 51)")
    write(tmp_path, "[plugins.notes]\nenabled = true\nrefresh = 0.5\n")
    check_fails(run_cli("config", "check", "--dev"), "[plugins.notes] refresh = 0.5: must be at least 1 (got 0.5)",
                "set refresh to a value from 1 to 86400; the default is 300")
    write(tmp_path, '[plugins.notes]\nenabled = true\nexport_dir = "/etc"\n')
    check_fails(run_cli("config", "check", "--dev"), '[plugins.notes] export_dir = "/etc": /etc is a system directory')
    write(tmp_path, '[plugins.notes]\nenabled = true\npage_size = 50\nexport_dir = "/srv/notes"\n')
    assert run_cli("config", "check", "--dev").returncode == 0
