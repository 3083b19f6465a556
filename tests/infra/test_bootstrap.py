"""`manage_all.py`'s first step, creating `.venv`, on a Python without `ensurepip`
(Debian without the python3-venv package)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from devstack.base import REPO_ROOT

# Debian's python3.11 ships without the `ensurepip` module until python3.11-venv is
# installed. A None entry in sys.modules, made at start-up by a sitecustomize on
# PYTHONPATH, makes this interpreter and every Python it starts look the same.
WITHOUT_ENSUREPIP = 'import sys\nsys.modules["ensurepip"] = None\n'


def test_without_ensurepip_bootstrap_names_the_package_to_install_and_creates_nothing(
    tmp_path: Path,
) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("manage_all.py", "requirements.lock"):
        shutil.copy(REPO_ROOT / name, clone / name)
    debian = tmp_path / "debian"
    debian.mkdir()
    (debian / "sitecustomize.py").write_text(WITHOUT_ENSUREPIP)

    result = subprocess.run(
        [sys.executable, "manage_all.py", "status"],
        cwd=clone,
        env={**os.environ, "PYTHONPATH": str(debian)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "sudo apt-get install python3-venv python3.11-venv" in result.stderr
    assert sorted(path.name for path in clone.iterdir()) == ["manage_all.py", "requirements.lock"]
