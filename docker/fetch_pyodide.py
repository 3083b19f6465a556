"""Put the Pyodide release that `wasm_client/package-lock.json` pins into
`wasm_client/node_modules/pyodide/`, without npm (standard library only).

The image's web-client stage runs this and then `wasm_client/build.py`, which finds
that exact version installed and skips `npm ci`. The tarball comes from the npm
registry and is refused unless its SHA-512 matches the lock file's `integrity`.

    python3 docker/fetch_pyodide.py [--registry https://registry.npmjs.org]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

CLIENT = Path(__file__).resolve().parent.parent / "wasm_client"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", default="https://registry.npmjs.org")
    args = parser.parse_args(argv)
    lock = json.loads((CLIENT / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/pyodide"]
    version, integrity = entry["version"], entry["integrity"]
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise SystemExit(f"unexpected integrity algorithm {algorithm!r} for pyodide")
    url = f"{args.registry}/pyodide/-/pyodide-{version}.tgz"
    with urllib.request.urlopen(url, timeout=120) as answer:  # noqa: S310 - fixed https URL
        data = answer.read()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"pyodide-{version}.tgz does not match the lock file's integrity")
    target = CLIENT / "node_modules" / "pyodide"
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            # npm tarballs hold everything under `package/`.
            if not member.isfile() or not member.name.startswith("package/"):
                continue
            relative = Path(member.name).relative_to("package")
            if ".." in relative.parts:
                continue
            out = target / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            if source is not None:
                out.write_bytes(source.read())
    print(f"pyodide {version} in {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
