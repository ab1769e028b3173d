"""Search engine tests: the release catalogue and the labelled queries are plain modules here.

Tests run with ``--import-mode=importlib``, which does not put a test
directory on ``sys.path``; the shared data modules (``release_catalogue``,
``relevance_set``) are imported by the tests and by ``bench/search_engine.py``,
so this directory is added once, here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
