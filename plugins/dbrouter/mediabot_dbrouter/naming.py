"""Names of the router's own collections, next to a catalogue collection (e.g. ``files``)."""

from __future__ import annotations

__all__ = ["STATE_COLLECTION", "claims_collection", "pending_collection", "suspects_collection"]

#: Home database: the router's shared state (the write pin).
STATE_COLLECTION = "dbrouter_state"


def claims_collection(collection: str) -> str:
    """Home database: which database holds each key (``_id``: the key)."""
    return f"{collection}_claims"


def pending_collection(collection: str) -> str:
    """Every database: keys written there while the claim registry was unreachable (``_id``: the key)."""
    return f"{collection}_pending"


def suspects_collection(collection: str) -> str:
    """Home database: keys that a failed database may hold a stray copy of (``_id``: the key)."""
    return f"{collection}_suspects"
