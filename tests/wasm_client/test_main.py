"""coffeeshop_client.main: what the boot snapshot holds imported (snapshot-worker.js)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "wasm_client" / "src"


def test_preload_imports_the_app_and_nothing_that_touches_the_page() -> None:
    # A fresh interpreter: a snapshot can't hold JavaScript objects, so neither `js`
    # nor `pyodide` nor the browser glue may be imported by preload(), and no app code
    # may have run (no App made: nothing of a person can be in the snapshot).
    probe = (
        "import sys\n"
        "from coffeeshop_client import main\n"
        "main.preload()\n"
        "assert 'coffeeshop_client.app' in sys.modules\n"
        "assert 'coffeeshop_client.views.menu' in sys.modules\n"
        "bad = [m for m in ('js', 'pyodide', 'coffeeshop_client.browser') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "assert main._app is None\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
