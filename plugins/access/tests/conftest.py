"""Access tests: ``access_kit`` (a file shelf plugin, configs, joining) is a plain module here.

Tests run with ``--import-mode=importlib``, which does not put a test
directory on ``sys.path``; this directory is added once, here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
