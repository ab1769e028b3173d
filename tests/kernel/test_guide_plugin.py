"""The realistic plugin of docs/plugins.md ("A realistic plugin") is short and works as written.

The test takes the code from the guide itself, counts its code lines, runs it
through the testing kit, and installs it to run its CLI subcommand through the
real ``mediabot`` command line.
"""

from __future__ import annotations

import ast
import io
import tokenize
import types

from mediabot.testing import FakeClock, eventually

#: Issue 22: commands, paging buttons, an admin count, a periodic job with health and a CLI export in this many.
MAX_CODE_LINES = 120


def code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - docstrings)


def test_the_counter_skips_blanks_comments_and_docstrings():
    assert code_lines('"""Doc."""\n\n# note\nx = 1  # why\n\ndef f():\n    """Doc\n    more."""\n'
                      '    return (1,\n            2)\n') == 4


def load(source: str) -> types.ModuleType:
    module = types.ModuleType("mediabot_reminders")
    # dont_inherit: not under this file's `from __future__ import annotations`, as in a module of its own.
    exec(compile(source, "docs/plugins.md", "exec", dont_inherit=True), module.__dict__)
    return module


def test_the_guides_realistic_plugin_is_at_most_120_code_lines(guide_block):
    count = code_lines(guide_block("realistic-example"))
    assert count <= MAX_CODE_LINES, f"the guide's realistic plugin has {count} code lines"


async def test_the_guides_realistic_plugin_works_as_written(guide_block, make_bot):
    reminders = load(guide_block("realistic-example")).Reminders
    bot = await make_bot(plugins=[reminders], clock=FakeClock(), admins=[9],
                         config="[plugins.reminders]\npage_size = 2")
    # Far enough ahead that the job, which the virtual clock runs in milliseconds, sends none of them yet.
    for text in ("/remind 9w pay   the rent", "/remind 8w call mum", "/remind 7w water plants"):
        assert (await bot.send(text, user=1)).last.text.startswith("I will remind you on ")
    first = (await bot.send("/reminders", user=1)).last
    title, *lines = first.text.splitlines()
    assert title == "Your reminders, page 1:"  # soonest first, two a page
    assert [line.split(" — ")[1] for line in lines] == ["water plants", "call mum"]
    second = (await bot.press(first, "▶", user=1)).last
    assert second.text.splitlines()[1].endswith(" — pay the rent")
    assert [b.text for row in second.keyboard for b in row] == ["◀"]
    assert (await bot.send("/remind soon tea", user=1)).texts == [
        "DELAY must be a duration from 1m to 365d: a whole number and a unit, m (minutes), h (hours), "
        "d (days), w (weeks), e.g. 30d; not 'soon'.\nUsage: /remind DELAY TEXT"]
    assert (await bot.send("/remind 10m", user=1)).texts == ["Say what to remind you of.\nUsage: /remind DELAY TEXT"]
    assert (await bot.send("/reminders_count", user=1)).texts == ["This command is for admins only."]
    assert (await bot.send("/reminders_count", user=9)).texts == ["3 reminders pending, for 1 users."]

    await bot.send("/remind 2m tea", user=2)
    await eventually(lambda: [m.text for m in bot.replies_to(2)], lambda texts: "⏰ tea" in texts,
                     what="the reminder is sent by the periodic job")
    job = next(r for r in await bot.app.health() if r.component == "reminders.send")
    assert job.status == "ok"
    assert job.detail.startswith("every 30s; ") and "; last ok " in job.detail  # perhaps "running for" between


async def test_the_guides_realistic_plugin_exports_from_the_command_line(guide_block, make_bot, make_dist, run_cli,
                                                                         tmp_path):
    source = guide_block("realistic-example")
    bot = await make_bot(plugins=[load(source).Reminders])
    await bot.send("/remind 3d renew the passport", user=1)
    await bot.send("/remind 2d book the flight", user=2)
    make_dist("mediabot-reminders", {"mediabot_reminders": source}, {"reminders": "mediabot_reminders:Reminders"})
    (tmp_path / "plugins.toml").write_text("[plugins.reminders]\nenabled = true\n")
    env = {k: v for k, v in bot.app.env.items() if k.startswith("MEDIABOT")}
    every = run_cli("reminders-export", env=env)
    assert every.returncode == 0, every.stderr
    assert [line.split("\t")[1:] for line in every.stdout.splitlines()] == [
        ["2", "book the flight"], ["1", "renew the passport"]]
    one = run_cli("reminders-export", "--user", "1", env=env)
    assert [line.split("\t")[1:] for line in one.stdout.splitlines()] == [["1", "renew the passport"]]
