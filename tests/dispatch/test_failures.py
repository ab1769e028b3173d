"""The one failure path for a plugin's bug: logged with the plugin's name, counted, the user apologised to."""

from __future__ import annotations

import logging

from mediabot.core.failures import APOLOGY, PluginFailures
from mediabot.core.metrics import Metrics


def _errors(metrics: Metrics, plugin: str, where: str) -> float:
    return metrics.value("mediabot_plugin_errors_total", {"plugin": plugin, "hook": where})


async def test_a_failure_is_logged_counted_and_apologised_for(caplog):
    metrics = Metrics()
    failures = PluginFailures(metrics)
    told: list[str] = []

    async def say(text: str) -> None:
        told.append(text)

    with caplog.at_level(logging.DEBUG, logger="mediabot"):
        await failures.apologise("films", "/get", KeyError("token=abc"), say)
    assert told == [APOLOGY] and "token" not in told[0]  # never the exception's text
    [record] = [r for r in caplog.records if r.name == "mediabot.plugins"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.getMessage() == "plugin films failed in /get: KeyError: 'token=abc'"
    assert _errors(metrics, "films", "/get") == 1


def test_a_failure_the_caller_reports_keeps_its_traceback_at_debug(caplog):
    metrics = Metrics()
    with caplog.at_level(logging.DEBUG, logger="mediabot.plugins"):
        PluginFailures(metrics).record("films", "mediabot_startup", RuntimeError("no index"), reported=True)
        PluginFailures(metrics).record("films", "mediabot_startup", RuntimeError("again"))
    records = [r for r in caplog.records if r.name == "mediabot.plugins"]
    assert [r.levelno for r in records] == [logging.DEBUG, logging.ERROR]
    assert all(r.exc_info is not None for r in records)
    assert _errors(metrics, "films", "mediabot_startup") == 2  # one counter, shared by every user of the path
