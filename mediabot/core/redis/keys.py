"""Redis key layout shared by the Redis services.

Every key carries a Redis Cluster hash tag (the part in braces): Cluster
hashes only that part, so everything one script or one user touches lands on
one slot and multi-key scripts stay legal. Braces anywhere else would move
the tag, so they are refused.
"""

from __future__ import annotations


def hash_tagged(prefix: str, tag: str, suffix: str = "") -> str:
    """``<prefix>:{<tag>}`` (plus ``:<suffix>``), after checking neither part has braces."""
    if "{" in prefix or "}" in prefix:
        raise ValueError(f"key prefix {prefix!r} must not contain braces (they are the hash tag)")
    if not tag or "{" in tag or "}" in tag:
        raise ValueError(f"key {tag!r} must be non-empty and contain no braces")
    key = f"{prefix}:{{{tag}}}"
    return f"{key}:{suffix}" if suffix else key
