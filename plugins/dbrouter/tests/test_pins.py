"""The shared write pin when the home database fails under it, and routing decisions read vs made."""

from __future__ import annotations


async def test_a_pin_release_that_could_not_be_written_is_written_on_a_later_pass(trio, kit, mongo_factory):
    home = mongo_factory()  # the home only, to pause it under one write
    front, indexer = kit.router([home, trio[1], trio[2]]), kit.router([home, trio[1], trio[2]])
    for router in (front, indexer):
        await kit.ready(router)
    assert front.pin("b") is None and await front.pins.publish(by=1)
    await indexer.monitor_once()
    assert indexer.pinned.name == "b"
    indexer.member("b").breaker.trip()  # b fails under the indexer: its pin ends here at once...
    assert indexer.pinned is None and indexer.pins.released == "b"
    home.pause()  # ...and telling the others fails once (the home does not answer in time)
    try:
        await indexer.pins.sync()
    finally:
        home.resume()
    assert indexer.pins.released == "b"  # kept for the next pass, not lost
    await kit.wait_for(lambda: indexer.home.readable, what="the home's breaker to close")
    await indexer.pins.sync()
    assert indexer.pins.released is None
    await front.monitor_once()
    assert front.pinned is None  # the release reached the other deployment


async def test_reading_where_writes_go_changes_nothing_until_the_routing_is_evaluated(trio, kit):
    router = kit.router(trio)
    await kit.ready(router)
    assert router.pin("b") is None
    router.member("b").capacity.full = True  # b fills up under the pin
    sent = list(router.alerts.sent)
    assert (router.active.name, router.pinned.name) == ("b", "b")  # a read: no release, no switch...
    assert list(router.alerts.sent) == sent and router.pins.released is None  # ...and no alert
    assert router.evaluate().name == "a"  # the transition releases the pin and moves the writes
    assert router.pinned is None and router.active.name == "a" and router.pins.released == "b"
    assert any("pin on b released: it is full" in t for t in router.alerts.sent)
