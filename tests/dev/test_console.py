"""`mediabot dev --script`: the console as a newcomer and the docs use it, end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello"


@pytest.fixture
def hello_installed(tmp_path: Path) -> dict[str, str]:
    """The example plugin importable and registered (dist-info with its entry point)."""
    site = tmp_path / "site"
    info = site / "mediabot_hello-1.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mediabot-hello\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text("[mediabot.plugins]\nhello = mediabot_hello:Hello\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(EXAMPLE)])
    return env


def run_dev(tmp_path: Path, env: dict[str, str], script: str, *args: str,
            config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``mediabot dev --script -`` with ``config`` (default: a plugins.toml enabling the hello example)."""
    if config is None:
        config = tmp_path / "plugins.toml"
        config.write_text('[bot]\nname = "Demo Bot"\n[plugins.hello]\nenabled = true\n')
    return subprocess.run([sys.executable, "-m", "mediabot", "dev", "--config", str(config), "--script", "-",
                           "--data-dir", str(tmp_path / "dev"), *args], input=script, capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=180)


def test_a_script_produces_the_expected_transcript(tmp_path, hello_installed):
    result = run_dev(tmp_path, hello_installed, "/start\n/help\n/hello Ann\n#1\n:as admin\n/help\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "console › Demo Bot is running with plugins: hello; you are the user (id 1001); "
        "type :help for the console's commands",
        "user › /start",
        "bot › Hi Dev! I am Demo Bot.",
        "      Send /help to see the commands.",
        "user › /help",
        "bot › Demo Bot commands:",
        "      /hello [NAME] - Say hello",
        "      /start - Start the bot",
        "      /help - List the commands",
        "user › /hello Ann",
        "bot › Hello, Ann! (greeting #1)",
        "      [1] Again",
        "user › [presses Again]",
        "bot (edited) › Hello, Ann! (greeting #2)",
        "               [1] Again",
        "console › now talking as admin (id 1000, role admin)",
        "admin › /help",
        "bot › Demo Bot commands:",
        "      /hello [NAME] - Say hello",
        "      /start - Start the bot",
        "      /help - List the commands",
        "",
        "      Admin commands:",
        "      /ban USER_ID [reason] - Ignore a user's messages",
        "      /unban USER_ID - Lift a ban",
        "      /users - User counts by status",
        "      /banned - The banned users, latest first",
        "console › shutting down",
    ]


def test_demo_seeds_the_catalogue_once_and_data_survives_a_restart(tmp_path, hello_installed):
    first = run_dev(tmp_path, hello_installed, ":as admin\n/users\n", "--demo")
    assert first.returncode == 0, first.stderr
    assert "console › demo catalogue: 2412 files added, 0 already there, 2412 in the catalogue" in first.stdout
    second = run_dev(tmp_path, hello_installed, ":as admin\n/users\n", "--demo")
    assert second.returncode == 0, second.stderr
    assert "console › demo catalogue: 2412 files in the catalogue" in second.stdout
    # The admin recorded as a user in the first run is still known after the restart.
    assert "active 1" in second.stdout


def test_console_mistakes_get_a_hint_not_a_crash(tmp_path, hello_installed):
    result = run_dev(tmp_path, hello_installed, "#3\n:post 12 x.mkv\n:as nobody\n:frobnicate\n"
                     ":as 99999999999999999999999\n:as 0\n:as -5\n:as\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "console › no button 3 on the latest message with buttons" in out
    assert "is not a channel/supergroup id" in out
    # A name, an id beyond 64 bits, zero, a negative id, nothing: the usage line each time.
    assert out.count("console › usage: :as user | :as admin | :as ID") == 5
    assert "console › unknown directive ':frobnicate'; type :help" in out


def test_an_admin_indexes_a_channel_and_a_user_finds_its_post_at_once(tmp_path, hello_installed):
    script = (":channel -1001234567890 @films Films HD\n:channel -1001234567890\n:channel 12\n"
              ":as admin\n/channel_add @films\n:post -1001234567890 Northern.Lights.2019.1080p.mkv\n"
              ":as user\nnorthern lights 2019\n")
    result = run_dev(tmp_path, hello_installed, script, config=ROOT / "plugins.toml")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert "console › channel -1001234567890 (@films) exists and the bot is an admin of it" in out
    assert "console › channel -1001234567890 already exists" in out
    assert "console › 12 is not a channel/supergroup id (use -100xxxxxxxxxx)" in out
    assert "bot › Now indexing new posts of Films HD (-1001234567890)." in out
    found = out.index("user › northern lights 2019") + 1
    assert out[found:found + 2] == ["bot › Results for “northern lights 2019”: 1–1 of 1",
                                    "      [1] Northern Lights 2019 1080p.mkv · 1.0 MB"]


def test_an_admin_replies_broadcast_to_a_message_from_the_console(tmp_path, hello_installed):
    (tmp_path / "bc.toml").write_text('[bot]\nname = "Demo Bot"\n[plugins.broadcast]\nenabled = true\n')
    script = ":reply /broadcast\n:as admin\nNews: 50 new films!\n:reply\n:reply /broadcast\n#1\n"
    result = run_dev(tmp_path, hello_installed, script, config=tmp_path / "bc.toml")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    usage = "console › usage: :reply TEXT: send TEXT as a reply to your previous message (send one first)"
    assert out.count(usage) == 2  # nothing sent yet, then no text
    asked = out.index("admin (reply) › /broadcast") + 1
    assert out[asked] == "bot › Broadcast this message to 1 user (all active users)?", out  # the admin
    assert any(line.startswith("bot (edited) › Broadcast ") and "started" in line for line in out[asked:]), out


def test_a_search_in_a_group_gives_a_link_that_delivers_in_the_private_chat(tmp_path, hello_installed):
    script = (":as admin\n:channel -1001234567890 @films Films\n/channel_add @films\n"
              ":post -1001234567890 Northern.Lights.2019.1080p.mkv\n:as user\n"
              ":group abc\n:group -1001234567890\n:group\nnorthern lights\n"
              "@mediabot_test_bot northern lights\n#1\n:group\n:private\n")
    result = run_dev(tmp_path, hello_installed, script, config=ROOT / "plugins.toml")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert "console › usage: :group [CHAT] (a group id, e.g. -1001000000002)" in out
    assert "console › -1001234567890 is not a group" in out
    start = out.index("user in -1001000000002 › northern lights")
    # Not mentioned: not for the bot. Mentioned: a list of links, no file in the group.
    assert out[start + 1] == "user in -1001000000002 › @mediabot_test_bot northern lights"
    assert out[start + 2] == "bot › Results for “northern lights”: 1–1 of 1"
    assert out[start + 4].startswith("      [1] Northern Lights 2019 1080p.mkv · 1.0 MB → "
                                     "https://t.me/mediabot_test_bot?start=")
    assert out[start + 5] == "console › the link opens the private chat of user with the bot"
    assert out[start + 6].startswith("user › /start ")
    assert out[start + 7] == "bot › [video: Northern.Lights.2019.1080p.mkv] Northern.Lights.2019.1080p.mkv"
    assert out[-2] == "console › now in the private chat of user with the bot"
    assert ("console › now talking in group -1001000000002; the bot answers there when mentioned "
            "(@mediabot_test_bot); :private goes back") in out


def test_the_group_hint_follows_the_deployments_groups_setting(tmp_path, hello_installed):
    config = tmp_path / "all.toml"
    config.write_text((ROOT / "plugins.toml").read_text().replace(
        "[plugins.search]\nenabled = true\n", '[plugins.search]\nenabled = true\ngroups = "all"\n'))
    result = run_dev(tmp_path, hello_installed, ":group\n", config=config)
    assert result.returncode == 0, result.stderr
    assert ("console › now talking in group -1001000000002; the bot answers searches there (chit-chat is "
            "left alone; mention @mediabot_test_bot to insist); :private goes back") in result.stdout.splitlines()


def test_extra_databases_for_the_dbrouter_example(tmp_path, hello_installed):
    example = ROOT / "examples" / "dbrouter" / "plugins.toml"
    script = ":as admin\n/dbstatus\n/dbswitch b\n"
    result = run_dev(tmp_path, hello_installed, script, "--mongo-env", "DB_HOME_URI", "--mongo-env", "DB_A_URI",
                     "--mongo-env", "DB_B_URI", config=example)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Writes: a (automatic)" in out and "· home [home, no files]: closed" in out and "· b: closed" in out
    assert "Writes pinned to b until /dbswitch auto" in out
    assert sorted(p.name for p in (tmp_path / "dev").iterdir() if p.name.startswith("mongo")) == [
        "mongo", "mongo-db_a_uri", "mongo-db_b_uri", "mongo-db_home_uri"]
    bad = subprocess.run([sys.executable, "-m", "mediabot", "dev", "--mongo-env", "db-a", "--script", "-"],
                         input="", capture_output=True, text=True, cwd=tmp_path, env=hello_installed, timeout=60)
    assert bad.returncode == 2 and "'db-a' is not an environment variable name" in bad.stderr


def test_button_answers_show_and_help_is_a_readable_table(tmp_path, hello_installed):
    result = run_dev(tmp_path, hello_installed, "/hello Ann\n:as 2000\n#1\n:press\n:help\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    # Another user's press of a bound button: the toast Telegram shows is in the transcript.
    assert "bot (toast) › This button has expired." in out
    assert "console › usage: :press N (or #N): press button N of the latest message" in out
    help_start = out.index("Console directives:")
    assert out[help_start + 1].split() == ["text", "or", "/cmd", "send", "it", "as", "the", "current", "identity",
                                           "in", "a", "private", "chat"]
    assert not any("``" in line or line.startswith("====") for line in out)


SEARCH_ONLY = '[bot]\nname = "Demo Bot"\n[plugins.search]\nenabled = true\n'


def suggested_titles() -> list[str]:
    """Every title the bot's hint and docs/search.md tell a newcomer to type, and `matrix` (issue 23)."""
    from mediabot_search.render import hint_text

    titles = re.findall(r"“([^”]+)”", hint_text(3))
    guide = (ROOT / "docs" / "search.md").read_text()
    first_sentence = guide.split("**Type a title**", 1)[1].split(". ", 1)[0]
    titles += re.findall(r"`([^`]+)`", first_sentence)
    titles += re.findall(r"`@bot ([^`]+)`", guide)
    return [*dict.fromkeys(titles), "matrix"]


def test_every_title_the_hint_and_the_docs_suggest_finds_results_in_the_demo(tmp_path, hello_installed):
    titles = suggested_titles()
    assert {"dune 2021", "the office s02e05", "interstellar 1080p", "dune"} <= set(titles), titles
    (tmp_path / "search.toml").write_text(SEARCH_ONLY)
    result = run_dev(tmp_path, hello_installed, "".join(f"{t}\n" for t in titles), "--demo",
                     config=tmp_path / "search.toml")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    for title in titles:
        answer = out[out.index(f"user › {title}") + 1]
        assert answer.startswith("bot › Results for "), (title, answer)


def test_a_picked_inline_result_is_sent_in_the_chat_as_telegram_does(tmp_path, hello_installed):
    (tmp_path / "search.toml").write_text(SEARCH_ONLY)
    script = ":pick 1\n:inline interstellar\n:pick 3\n:pick 1\n"
    result = run_dev(tmp_path, hello_installed, script, "--demo", config=tmp_path / "search.toml")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert "console › usage: :pick N after :inline QUERY showed results" in out
    assert "bot (inline) › 2. Interstellar 2014 2160p UHD BluRay x265-PSA.mkv" in out
    assert "console › usage: :pick N, N a result of the latest :inline (1–2)" in out
    # The chosen result's message, in your chat, from you via the bot.
    assert out[-2].startswith("user (via @mediabot_test_bot) › [video: Interstellar"), out


def test_open_writes_the_document_the_bot_sent_to_a_file(tmp_path, hello_installed):
    (tmp_path / "ops.toml").write_text('[bot]\nname = "Demo Bot"\n[plugins.ops]\nenabled = true\n'
                                       'listen = "127.0.0.1:0"\n')
    result = run_dev(tmp_path, hello_installed, ":open 1\n:as admin\n/logs 3\n:open 1\n:open 2\n",
                     config=tmp_path / "ops.toml")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert "console › usage: :open N, N a document the bot sent (none yet)" in out
    assert "bot › [document 1: mediabot-logs.txt] The last 3 log lines (secrets masked)." in out
    written = next(line for line in out if line.startswith("console › document 1 "))
    path = Path(written.rsplit(" written to ", 1)[1])
    assert path == tmp_path / "dev" / "downloads" / "1-mediabot-logs.txt"
    assert len(path.read_text().splitlines()) == 3
    assert f"({path.stat().st_size} bytes)" in written
    assert "console › usage: :open N, N a document the bot sent (1–1)" in out


def test_wait_for_waits_for_a_late_reply_and_a_miss_fails_the_script(tmp_path, hello_installed):
    (tmp_path / "bc.toml").write_text('[bot]\nname = "Demo Bot"\n[plugins.broadcast]\nenabled = true\n')
    script = (":as admin\nNews: 50 new films!\n:reply /broadcast\n#1\n:wait-for finished\n:as user\n"
              ":wait-for --timeout 0.3 never said\n:wait 0.1\n:wait soon\n:wait-for\n")
    result = run_dev(tmp_path, hello_installed, script, config=tmp_path / "bc.toml")
    out = result.stdout.splitlines()
    finished = next(i for i, line in enumerate(out) if line.startswith("bot › Broadcast ") and "finished" in line)
    assert finished < out.index("console › now talking as user (id 1001, role user)"), out
    assert "console › timed out: the bot did not say “never said” within 0.3 s" in out
    assert "console › usage: :wait SECONDS (0 to 3600)" in out
    assert "console › usage: :wait-for [--timeout S] TEXT (S up to 3600, default 10)" in out
    assert result.returncode == 1  # a script whose expected reply never came fails


def test_a_newcomer_buys_a_plan_with_stars_in_the_console(tmp_path, hello_installed):
    env = {**hello_installed, "MEDIABOT__PLUGINS__QUOTA__OFFERS": "{ premium = { stars = 100, days = 30 } }"}
    result = run_dev(tmp_path, env, ":pay\n/plans\n#1\n:pay\n/quota\n", config=ROOT / "plugins.toml")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert "console › no invoice to pay here: ask the bot for one first (e.g. /plans, Buy)" in out
    assert "bot › [invoice: Premium plan, 100 Stars] 500 files a day for 30 days" in out
    paid = out.index("user › [pays the invoice]")
    assert out[paid + 1].startswith("bot › Thank you! You paid 100 Stars for the premium plan")
    assert any(line.startswith("      Plan: premium until ") for line in out[paid + 2:])


def test_a_newcomer_tries_force_subscribe_with_join_and_try_again(tmp_path, hello_installed):
    text = (ROOT / "plugins.toml").read_text()
    at = text.index("channels = []", text.index("[plugins.access]"))
    config = tmp_path / "access.toml"
    config.write_text(text[:at] + 'channels = [{ chat = -1001000000050, label = "Films" }]' + text[at + 13:])
    script = (":join abc\n:channel -1001000000050 @films Films\n:as admin\n/channel_add @films\n"
              ":post -1001000000050 Northern.Lights.2019.1080p.mkv\n:as user\nnorthern lights\n#1\n"
              ":join -1001000000050\n#2\n:leave -1001000000050\n:request -1001000000050\n")
    result = run_dev(tmp_path, hello_installed, script, config=config)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert "console › usage: :join CHAT (a channel or group id, e.g. -1001234567890)" in out
    refused = out.index("bot › To use this bot, join Films first, then press Try again.")
    assert out[refused + 1].startswith("      [1] Join Films → https://t.me/+")
    assert out[refused + 3:refused + 7] == [
        "console › user joined -1001000000050", "user › [presses Try again]",
        "bot (edited) › Thanks for joining!", "bot › [video: Northern.Lights.2019.1080p.mkv] Northern.Lights.2019.1080p.mkv"]
    assert "console › user left -1001000000050" in out
    assert out[-2].startswith("console › ")  # the request: no request-mode link here, said so


def test_a_console_user_becomes_a_group_admin_and_adds_a_filter(tmp_path, hello_installed):
    script = (":group\n/filter rules Be kind.\n:admin\n/filter rules Be kind.\nrules\n")
    result = run_dev(tmp_path, hello_installed, script, config=ROOT / "plugins.toml")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bot › Only this group's admins can manage its filters." in out
    assert "console › user in -1001000000002 is an admin of group -1001000000002" in out
    assert out.count("bot › Be kind.") == 1
