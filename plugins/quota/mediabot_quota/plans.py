"""Plans: a name and a daily limit each, one of them the default."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["Plans"]


class Plans:
    """The configured plans, validated once.

    :param limits: daily file limit per plan name, e.g. ``{"free": 50, "premium": 500}``.
    :param default: the plan of a user without an active grant.
    :raises ValueError: no plans, a default that is not among them, or a limit that is not a whole number >= 0.
    """

    def __init__(self, limits: Mapping[str, int], default: str = "free") -> None:
        if not limits:
            raise ValueError("no plans configured: give at least the default plan and its daily limit")
        for name, limit in limits.items():
            if not name or not isinstance(name, str):
                raise ValueError(f"plan name {name!r} must be a non-empty string")
            # bool is an int subclass; `premium = true` is a config mistake.
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValueError(f"plan {name!r}: the daily limit must be a whole number >= 0, not {limit!r}")
        if default not in limits:
            raise ValueError(f"default plan {default!r} is not among the plans ({', '.join(sorted(limits))})")
        self._limits = dict(limits)
        self.default = default

    @property
    def names(self) -> list[str]:
        return sorted(self._limits)

    def limit(self, name: str) -> int:
        """The daily limit of plan ``name``; the default plan's for a plan no longer configured."""
        return self._limits.get(name, self._limits[self.default])

    def others(self) -> dict[str, int]:
        """The plans a grant can give (every plan but the default), with their limits."""
        return {name: limit for name, limit in self._limits.items() if name != self.default}

    def require(self, name: str) -> None:
        """:raises ValueError: ``name`` is not a configured plan."""
        if name not in self._limits:
            raise ValueError(f"unknown plan {name!r}: the plans are {', '.join(self.names)}")
