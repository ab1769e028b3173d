"""The reconciler settles what writes could not decide at once, and never deletes the last copy."""

from __future__ import annotations

from mediabot_dbrouter.reconcile import Reconciler
from mediabot_dbrouter.writes import utcnow
from pymongo import MongoClient

from mediabot.catalog.models import to_document


def raw(server, kit, collection: str = "files"):
    client = MongoClient(server.uri)
    return client, client[kit.db_name][collection]


async def test_files_written_while_the_home_database_was_away_end_up_claimed_once(trio, kit):
    router = kit.router(trio)
    repo = await kit.ready(router)
    twice, once = kit.file("twice"), kit.file("once")
    await repo.insert_batch([twice])  # claimed and stored in a
    client_b, files_b = raw(trio[1], kit)
    client_c, files_c = raw(trio[2], kit)
    with client_b, client_c:
        # Degraded writes of another deployment: a second copy of "twice" in b, "once" only in c.
        files_b.insert_one({**to_document(twice), "_id": to_document(kit.file("x"))["_id"]})
        files_b.database["files_pending"].insert_one({"_id": "utwice", "at": utcnow()})
        files_c.insert_one(to_document(once))
        files_c.database["files_pending"].insert_one({"_id": "uonce", "at": utcnow()})
        done = await Reconciler(router).run_once()
        assert done["removed"] == 1 and done["claimed"] == 1
        assert kit.locations() == {"utwice": ["a"], "uonce": ["c"]}
        assert files_c.database["files_pending"].find_one({}) is None
    claims = router.home.db["files_claims"]
    assert (await claims.find_one({"_id": "uonce"}))["db"] == "c"
    assert await Reconciler(router).idle()


async def test_a_stray_copy_on_a_suspect_database_is_removed_once_the_owner_has_its_own(trio, kit):
    router = kit.router(trio)
    repo = await kit.ready(router)
    f = kit.file("z")
    router.pin("b")
    await repo.insert_batch([f])
    # a failed under the write, maybe after applying it
    await router.home.db["files_suspects"].insert_one({"_id": "uz", "on": ["a"]})
    client_a, files_a = raw(trio[0], kit)
    with client_a:
        files_a.insert_one(to_document(f))
        assert kit.copies()["uz"] == 2
        await Reconciler(router).run_once()
    assert kit.locations() == {"uz": ["b"]}
    assert await router.home.db["files_suspects"].count_documents({}) == 0


async def test_a_suspect_copy_that_is_the_only_one_is_kept_and_adopted(trio, kit):
    router = kit.router(trio, claim_lease=0.0)
    await kit.ready(router)
    f = kit.file("only")
    claims = router.home.db["files_claims"]
    # The claim moved to b, but b never got the document; a (suspect) did.
    await claims.insert_one({"_id": "uonly", "db": "b", "at": utcnow(), "w": "gone"})
    await router.home.db["files_suspects"].insert_one({"_id": "uonly", "on": ["a"]})
    client_a, files_a = raw(trio[0], kit)
    with client_a:
        files_a.insert_one(to_document(f))
        await Reconciler(router).run_once()
    assert kit.locations() == {"uonly": ["a"]}
    assert (await claims.find_one({"_id": "uonly"}))["db"] == "a"


async def test_a_claim_whose_writer_died_is_taken_over_after_the_lease(trio, kit):
    router = kit.router(trio, claim_lease=3600.0)
    repo = await kit.ready(router)
    claims = router.home.db["files_claims"]
    await claims.insert_one({"_id": "ulate", "db": "c", "at": utcnow(), "w": "crashed"})
    report = await repo.insert_batch([kit.file("late")])
    assert report.deferred == ["ulate"] and report.inserted == 0  # maybe still on its way to c
    router.settings.claim_lease = 0.0  # time passes: that writer is gone
    report = await repo.insert_batch([kit.file("late")])
    assert report.inserted == 1 and kit.locations() == {"ulate": ["a"]}
