"""Under dbrouter, writes follow the durability contract of docs/operations.md ("Durability")."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.monitoring import CommandListener


class WriteConcerns(CommandListener):
    """The write concern of every insert: (collection, writeConcern or None)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any] | None]] = []

    def started(self, event: Any) -> None:
        if event.command_name == "insert":
            wc = event.command.get("writeConcern")
            self.seen.append((event.command["insert"], dict(wc) if wc else None))

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


@pytest.mark.parametrize(("durable", "expected"), [(True, {"j": True}), (False, None)])
async def test_claims_and_files_are_written_with_the_configured_durability(trio, kit, durable, expected):
    concerns = WriteConcerns()
    router = kit.router(trio, roles="hww", listeners=[concerns], durable_writes=durable)
    repo = await kit.ready(router)
    concerns.seen.clear()
    assert (await repo.insert_batch([kit.file(i) for i in range(20)])).inserted == 20
    assert {coll for coll, _ in concerns.seen} == {"files_claims", "files"}
    assert all(wc == expected for _, wc in concerns.seen), concerns.seen
