"""Types shared by the Redis services (their settings are the ``[services]`` and ``[redis]`` sections)."""

from __future__ import annotations

from typing import Literal

RateLimitPolicy = Literal["fail_open", "fail_closed"]
