"""`mediabot dev --demo`: a newcomer types a title, gets results, presses one and receives the file."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_demo_catalogue_is_searchable_and_a_pressed_result_arrives(tmp_path):
    (tmp_path / "plugins.toml").write_text('[bot]\nname = "Demo Bot"\n[plugins.search]\nenabled = true\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIABOT")}
    result = subprocess.run([sys.executable, "-m", "mediabot", "dev", "--demo", "--script", "-", "--data-dir",
                             str(tmp_path / "dev")], input="silent harbr\n#1\n", capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "bot › Results for “silent harbr”: 1–2 of 2" in lines
    assert "      Showing results for corrected words (harbr → harbor)." in lines
    # The file arrives with its channel post's caption ([delivery] caption defaults to it).
    assert "bot › [video: file6937631076484989] Garden Harbor Silent (2011) 2160p" in lines
