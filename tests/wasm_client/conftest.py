"""Tests of CoffeeShop.Wasm's pure-Python logic on CPython (no browser, no Django):

.venv/bin/python -m pytest tests/wasm_client -p no:django -q
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SRC = REPO_ROOT / "wasm_client" / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))
