import os
import subprocess
import sys
import time

import pytest
from mediabot_trending import Trending
from mediabot_watchlist import Watchlist

from mediabot import ConfigError, MediaFile
from mediabot.testing import FakeClock


async def test_watch_page_and_get_told_when_the_title_arrives(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[Watchlist], clock=clock, config="[plugins.watchlist]\npage_size = 2")
    for title in ("Dune Part Two", "Arrival", "Heat"):
        await bot.send(f"/watch {title}", user=1)
    first = (await bot.send("/watchlist", user=1)).last
    assert first.text == "Your watchlist, page 1:\n⏳ Dune Part Two\n⏳ Arrival"
    second = (await bot.press(first, "▶", user=1)).last
    assert second.text == "Your watchlist, page 2:\n⏳ Heat"
    await bot.app.files.insert_batch([MediaFile(file_unique_id="u1", file_id="f1",
                                                tokens=["arrival", "2016", "1080p"])])
    await bot.plugin("watchlist").check_once()  # what the loop does every check_interval
    assert bot.replies_to(1)[-1].text == "“Arrival” is here: search for it!"
    assert (await bot.send("/watchstats", user=1)).texts == ["This command is for admins only."]
    health = {r.component: r for r in await bot.app.health()}
    assert health["watchlist"].detail == "2 titles awaited"
    assert health["watchlist.check"].status == "ok"  # the periodic job's own report, from the kernel
    assert health["watchlist.check"].detail.startswith("every 600s; ")


async def test_the_loop_runs_on_the_app_clock(make_bot):
    clock = FakeClock()
    bot = await make_bot(plugins=[Watchlist], clock=clock)
    await bot.send("/watch Heat", user=1)
    await bot.app.files.insert_batch([MediaFile(file_unique_id="u2", file_id="f2", tokens=["heat", "1995"])])
    deadline = time.monotonic() + 10
    while bot.replies_to(1)[-1].text != "“Heat” is here: search for it!":
        assert time.monotonic() < deadline, "the loop never ran"
        await clock.sleep(60)  # virtual: the 10-minute check interval passes without a real wait


async def test_another_plugin_counts_titles_through_the_watchlist_hook(make_bot):
    bot = await make_bot(plugins=[Watchlist, Trending])
    for user, title in ((1, "Heat"), (2, "heat"), (3, "Arrival")):
        await bot.send(f"/watch {title}", user=user)
    assert (await bot.send("/trending", user=4)).texts == ["2 × heat\n1 × arrival"]


async def test_the_cli_exports_what_users_watch(make_bot, tmp_path):
    bot = await make_bot(plugins=[Watchlist])
    await bot.send("/watch Heat", user=1)
    await bot.send("/watch Arrival", user=2)
    config = tmp_path / "plugins.toml"
    config.write_text("[plugins.watchlist]\nenabled = true\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}, **bot.app.env}
    # The installed plugin's subcommand, through the real command line, on the bot's data.
    result = subprocess.run([sys.executable, "-m", "mediabot", "--config", str(config), "watchlist-export"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\tHeat\n2\tArrival\n"


async def test_a_page_size_out_of_range_is_refused_with_the_range_and_the_default(make_bot):
    with pytest.raises(ConfigError, match=r"\[plugins.watchlist\] page_size = 0: must be at least 1 \(got 0\) "
                                          r"\(set page_size to a value from 1 to 50; the default is 5\)"):
        await make_bot(plugins=[Watchlist], config="[plugins.watchlist]\npage_size = 0")
