"""Build CoffeeShop.Wasm into `wasm_client/dist/` (standard library only).

    python3 wasm_client/build.py            # no-op when dist/ is up to date
    python3 wasm_client/build.py --force    # rebuild everything

What it does:

1. Reads the pinned Pyodide version from `package-lock.json`. If
   `dist/pyodide/<version>/` is not complete yet, it runs `npm ci` in
   `wasm_client/` (only when `node_modules/` lacks that exact version; the lock
   file holds the integrity hashes) and copies the files Pyodide needs at run
   time — and nothing else — into `dist/pyodide/<version>/`.
2. Packs the app (`src/coffeeshop_client/**.py`, plus the modules of `shared/` it
   imports, `BROWSER_SHARED_MODULES`) into `app.zip`, and puts it with the JS
   bootstrap and the stylesheet in `dist/app/<content-hash>/`, a path that changes whenever any of
   them changes, so the BFF can cache it forever.
3. Copies each product photo (`static/photos/<key>.svg`, the ones `shared/photos.py`
   lists) to `dist/photos/<key>.<hash of the file>.svg`, also cached forever, and packs
   the map of key to file into the app (`coffeeshop_client/photos.json`), so the views
   name each photo's current file on both sides (browser and the BFF's first render).
4. Pre-compresses what compresses: `x.gz` and, when the `brotli` package is there,
   `x.br` beside `x` (WhiteNoise serves the smallest the browser accepts). Zips are
   written *stored* (Pyodide's `python_stdlib.zip` repacked so): compressing the whole
   archive at once shares what its files have in common, so it travels smaller than
   entry-by-entry deflate (1.6 MB with brotli instead of 2.5 MB), and Python imports
   from it without inflating each module.
5. Writes `dist/manifest.json` with every path the shell page needs, relative to
   `dist/`. It is written last and atomically: a half-finished build never
   shows in the manifest.

`build()` is the function to call from Python; it returns the manifest.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
DEFAULT_DIST = HERE / "dist"
MANIFEST_SCHEMA = 1

# The files Pyodide loads at run time (pyodide.mjs imports pyodide.asm.mjs, which
# fetches the wasm; the stdlib zip and the lock file are fetched by loadPyodide).
PYODIDE_RUNTIME_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
# Older Pyodide releases ship the classic-script flavour instead of the module one.
PYODIDE_FALLBACK_NAMES = {"pyodide.mjs": "pyodide.js", "pyodide.asm.mjs": "pyodide.asm.js"}

# Only compress what compression actually shrinks; our zips are written stored for it.
COMPRESSIBLE_SUFFIXES = {
    ".js",
    ".mjs",
    ".css",
    ".json",
    ".wasm",
    ".map",
    ".txt",
    ".html",
    ".zip",
    ".svg",
}
# Keep a .gz/.br only when it saves at least this fraction (WhiteNoise uses the same rule).
MIN_SAVING = 0.05
# Brotli's best setting: slow (about a minute for Pyodide, once per version) but the
# wasm comes out 22% smaller than gzip -9; the small app files take milliseconds.
BROTLI_QUALITY = 11
# Compressing the runtime at that setting takes about a minute, so each result is kept
# by the SHA-256 of its input in the project's cache and reused by every later build
# (a `--force`, a test's scratch dist, another checkout's dist of the same Pyodide).
COMPRESSED_CACHE = REPO_ROOT / ".cache" / "wasm_client" / "compressed"
CACHE_MIN_BYTES = 256 * 1024
# What `dist/pyodide/<version>/` holds changed shape (stored stdlib, .br files): a
# folder vendored in an older shape is vendored again.
PYODIDE_VENDOR_FORMAT = "2"
PYODIDE_STAMP = ".vendored"
# Part of the app's content hash: a change in how the app folder is packed (stored zip,
# .br files) gives it a new folder, as a change in its sources does.
APP_PACKING = "2"
# Fixed timestamp for zip entries so the same sources give the same bytes.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Previous app builds kept so a page loaded just before a deploy can still fetch them.
KEEP_APP_BUILDS = 3


# Modules of `shared/` the web client imports (plain Python, Pyodide-safe).
BROWSER_SHARED_MODULES = ("pricing.py", "allergens.py", "dietary.py", "photos.py")
# Where the photo map goes in the app archive (read by coffeeshop_client/photos.py).
PHOTO_MAP_ENTRY = "coffeeshop_client/photos.json"


class BuildError(RuntimeError):
    """The build cannot go on (npm missing, npm failed, a pinned file is missing)."""


def _sources(repo_root: Path) -> dict[str, Path]:
    """Every input of the app build, by its path in the output (`zip:` or `static:`)."""
    src = repo_root / "wasm_client" / "src"
    files: dict[str, Path] = {}
    for path in sorted((src / "coffeeshop_client").rglob("*.py")):
        files["zip:" + path.relative_to(src).as_posix()] = path
    for name in BROWSER_SHARED_MODULES:
        # Only these pure-Python modules go to the browser; `shared/__init__.py` of the
        # repo is not copied (the client gets an empty package instead).
        files[f"zip:shared/{name}"] = repo_root / "shared" / name
    static = repo_root / "wasm_client" / "static"
    for name in ("bootstrap.js", "snapshot-worker.js", "app.css", "noscript.css"):
        files["static:" + name] = static / name
    for key, path in photo_sources(repo_root).items():
        files[f"photo:{key}"] = path
    return files


def _photo_catalogue(repo_root: Path) -> list[str]:
    """The photo keys `shared/photos.py` lists (read from the file; the build imports
    nothing of the project)."""
    spec = importlib.util.spec_from_file_location(
        "_coffeeshop_photos", repo_root / "shared" / "photos.py"
    )
    if spec is None or spec.loader is None:
        raise BuildError("shared/photos.py cannot be read")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses looks its module up while defining
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return list(module.PHOTOS)


def photo_sources(repo_root: Path) -> dict[str, Path]:
    """Every photo the menu may name, by key (`static/photos/<key>.svg`); BuildError when
    shared/photos.py lists a photo whose file is missing."""
    folder = repo_root / "wasm_client" / "static" / "photos"
    keys = _photo_catalogue(repo_root)
    missing = [key for key in keys if not (folder / f"{key}.svg").is_file()]
    if missing:
        raise BuildError(
            f"shared/photos.py lists photos without a file in {folder}: "
            + ", ".join(f"{key}.svg" for key in missing)
        )
    return {key: folder / f"{key}.svg" for key in keys}


def photo_map(photos: dict[str, Path]) -> dict[str, str]:
    """Each photo's served path under dist/: `photos/<key>.<first 12 hex of its
    sha256>.svg` (a new drawing gets a new name, so browsers may keep one forever)."""
    return {
        key: f"photos/{key}.{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}.svg"
        for key, path in sorted(photos.items())
    }


def _fingerprint(sources: dict[str, Path]) -> str:
    digest = hashlib.sha256(f"packing {APP_PACKING}\0".encode())
    for name, path in sorted(sources.items()):
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def locked_npm_version(folder: Path, package: str) -> str:
    """The version of `package` that `folder`'s package-lock.json pins."""
    lock = json.loads((folder / "package-lock.json").read_text(encoding="utf-8"))
    try:
        return str(lock["packages"][f"node_modules/{package}"]["version"])
    except KeyError:
        raise BuildError(f"package-lock.json does not pin {package}") from None


def installed_npm_version(folder: Path, package: str) -> str | None:
    """The version of `package` in `folder`'s node_modules (None: not installed)."""
    manifest = folder / "node_modules" / package / "package.json"
    if not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text(encoding="utf-8")).get("version"))


def npm_ci(folder: Path, what: str, log: Callable[[str], None]) -> None:
    """`npm ci` in `folder` (no install scripts) for `what`; BuildError when npm is
    missing or fails. (The dashboard vendors uPlot with it too.)"""
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(f"npm is not on PATH: install Node.js 18+ and npm to vendor {what}")
    log(f"npm ci in {folder} ({what}, once)")
    result = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"npm ci failed ({result.returncode}):\n{result.stderr[-2000:]}")


def _log(message: str) -> None:
    print(f"wasm_client: {message}", file=sys.stderr)


def _staging_dir(dist: Path, prefix: str) -> Path:
    """A fresh folder beside its final place, renamed into place when complete.

    mkdtemp makes it 0700; the BFF may run as another user (the orchestrator drops
    root to `coffeeshop`), so it gets the usual 0755 before it is published."""
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=dist))
    staging.chmod(0o755)
    return staging


def _brotli() -> object | None:
    """The `brotli` module, or None: `python3 wasm_client/build.py` may run outside the
    project's .venv, and gzip alone still works."""
    try:
        return importlib.import_module("brotli")
    except ImportError:
        return None


def _cached(data: bytes, name: str, make: Callable[[bytes], bytes]) -> bytes:
    """`make(data)`, from the cache when this input was compressed before (big inputs)."""
    if len(data) < CACHE_MIN_BYTES:
        return make(data)
    entry = COMPRESSED_CACHE / f"{hashlib.sha256(data).hexdigest()}.{name}"
    try:
        return entry.read_bytes()
    except OSError:
        pass
    packed = make(data)
    try:
        COMPRESSED_CACHE.mkdir(parents=True, exist_ok=True)
        staged = entry.with_name(f".{entry.name}.{os.getpid()}")
        staged.write_bytes(packed)
        os.replace(staged, entry)
    except OSError as err:
        _log(f"could not keep {entry.name} in {COMPRESSED_CACHE}: {err}")
    return packed


def _compress_beside(path: Path) -> None:
    """Write `path.gz` (and `path.br`) where they save enough, so WhiteNoise can serve
    the file pre-compressed."""
    if path.suffix not in COMPRESSIBLE_SUFFIXES:
        return
    data = path.read_bytes()
    packed = {"gz": _cached(data, "gz9", lambda d: gzip.compress(d, compresslevel=9, mtime=0))}
    brotli: Any = _brotli()
    if brotli is not None:
        packed["br"] = _cached(
            data, f"br{BROTLI_QUALITY}", lambda d: brotli.compress(d, quality=BROTLI_QUALITY)
        )
    for suffix, body in packed.items():
        if len(body) <= len(data) * (1 - MIN_SAVING):
            path.with_name(f"{path.name}.{suffix}").write_bytes(body)


def _restore_stored(path: Path) -> None:
    """Rewrite a zip with every entry stored (uncompressed), names and order kept."""
    staged = path.with_name(path.name + ".stored")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(staged, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            info.compress_type = zipfile.ZIP_STORED
            out.writestr(info, data)
    os.replace(staged, path)


def _pyodide_complete(target: Path) -> bool:
    stamp = target / PYODIDE_STAMP
    return (
        all((target / name).is_file() for name in PYODIDE_RUNTIME_FILES)
        and stamp.is_file()
        and stamp.read_text(encoding="utf-8").strip() == PYODIDE_VENDOR_FORMAT
    )


def _vendor_pyodide(client_dir: Path, dist: Path, version: str) -> Path:
    target = dist / "pyodide" / version
    if _pyodide_complete(target):
        return target
    if installed_npm_version(client_dir, "pyodide") != version:
        npm_ci(client_dir, "Pyodide", _log)
    installed = installed_npm_version(client_dir, "pyodide")
    if installed != version:
        raise BuildError(f"npm installed pyodide {installed}, the lock pins {version}")
    source = client_dir / "node_modules" / "pyodide"
    staging = _staging_dir(dist, ".pyodide-")
    try:
        for name in PYODIDE_RUNTIME_FILES:
            origin = source / name
            if not origin.is_file():
                origin = source / PYODIDE_FALLBACK_NAMES.get(name, name)
            if not origin.is_file():
                raise BuildError(f"pyodide {version} has no {name}")
            # Keep the canonical name: pyodide.mjs imports "pyodide.asm.mjs" by that name.
            shutil.copyfile(origin, staging / origin.name)
            if origin.suffix == ".zip":
                _restore_stored(staging / origin.name)
            _compress_beside(staging / origin.name)
        (staging / PYODIDE_STAMP).write_text(PYODIDE_VENDOR_FORMAT + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _photos_of(sources: dict[str, Path]) -> dict[str, Path]:
    return {
        name[len("photo:") :]: path for name, path in sources.items() if name.startswith("photo:")
    }


def _photo_map_json(sources: dict[str, Path]) -> bytes:
    return (json.dumps(photo_map(_photos_of(sources)), indent=1, sort_keys=True) + "\n").encode()


def _write_app_zip(sources: dict[str, Path], archive: Path) -> None:
    entries: dict[str, Path | bytes] = {
        name[len("zip:") :]: path for name, path in sources.items() if name.startswith("zip:")
    }
    if any(name.startswith("shared/") for name in entries):
        entries["shared/__init__.py"] = b""
    entries[PHOTO_MAP_ENTRY] = _photo_map_json(sources)
    # Stored: the HTTP layer compresses the whole archive (see the module's docstring).
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            entry = entries[name]
            zf.writestr(info, entry if isinstance(entry, bytes) else entry.read_bytes())


def _publish_photos(sources: dict[str, Path], dist: Path) -> None:
    """Copy each photo to its hashed name in dist/photos/ (once: a name is its content)."""
    folder = dist / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    photos = _photos_of(sources)
    for key, served in photo_map(photos).items():
        target = dist / served
        if target.is_file():
            continue
        staging = folder / f".tmp-{target.name}"
        shutil.copyfile(photos[key], staging)
        staging.chmod(0o644)
        _compress_beside(staging)
        for suffix in (".gz", ".br"):
            packed = staging.with_name(staging.name + suffix)
            if packed.is_file():
                os.replace(packed, target.with_name(target.name + suffix))
        os.replace(staging, target)


def _build_app(sources: dict[str, Path], dist: Path, app_hash: str) -> Path:
    target = dist / "app" / app_hash
    if target.is_dir():
        return target
    staging = _staging_dir(dist, ".app-")
    try:
        _write_app_zip(sources, staging / "app.zip")
        _compress_beside(staging / "app.zip")
        # The photos this build names, so pruning keeps those of every kept build.
        (staging / "photos.json").write_bytes(_photo_map_json(sources))
        for name, path in sources.items():
            if name.startswith("static:"):
                out = staging / name[len("static:") :]
                shutil.copyfile(path, out)
                _compress_beside(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _prune(dist: Path, keep_app: str, keep_pyodide: str) -> None:
    """Remove other Pyodide versions and all but the newest few app builds."""
    for old in (dist / "pyodide").iterdir():
        if old.is_dir() and old.name != keep_pyodide:
            shutil.rmtree(old)
    builds = sorted(
        (p for p in (dist / "app").iterdir() if p.is_dir() and p.name != keep_app),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[KEEP_APP_BUILDS - 1 :]:
        shutil.rmtree(old)
    # Photos no kept build names (a page of an older build still finds its photos).
    named: set[str] = set()
    for kept in (dist / "app").iterdir():
        try:
            named.update(json.loads((kept / "photos.json").read_text(encoding="utf-8")).values())
        except (OSError, ValueError):
            continue
    photos = dist / "photos"
    for path in photos.iterdir() if photos.is_dir() else ():
        served = "photos/" + path.name.removesuffix(".gz").removesuffix(".br")
        if path.is_file() and served not in named:
            path.unlink()


def _manifest_is_current(dist: Path, fingerprint: str, version: str) -> dict[str, object] | None:
    try:
        manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        manifest.get("schema") != MANIFEST_SCHEMA
        or manifest.get("fingerprint") != fingerprint
        or manifest.get("pyodide_version") != version
    ):
        return None
    try:
        paths = [
            manifest[key]
            for key in ("bootstrap", "snapshot_worker", "stylesheet", "noscript_stylesheet")
        ]
        paths.append(manifest["app_archive"])
    except KeyError:
        return None
    paths += [manifest["pyodide_dir"] + name for name in PYODIDE_RUNTIME_FILES]
    paths += list(dict(manifest.get("photos") or {}).values())
    if not all((dist / p).is_file() for p in paths):
        return None
    for folder in (dist / manifest["app_dir"], dist / manifest["pyodide_dir"]):
        if folder.stat().st_mode & 0o755 != 0o755:
            folder.chmod(0o755)  # made 0700 by an earlier build of this script
    return dict(manifest)


def build(
    dist: Path = DEFAULT_DIST,
    *,
    repo_root: Path = REPO_ROOT,
    force: bool = False,
) -> dict[str, object]:
    """Build the client into `dist` and return the manifest written there.

    A no-op (besides hashing the small app sources) when `dist/manifest.json`
    already describes the same sources and Pyodide version and its files exist.
    Raises BuildError when npm is needed but missing or failing.
    """
    client_dir = repo_root / "wasm_client"
    dist = Path(dist)
    version = locked_npm_version(client_dir, "pyodide")
    sources = _sources(repo_root)
    missing = [str(p) for p in sources.values() if not p.is_file()]
    if missing:
        raise BuildError(f"missing sources: {', '.join(missing)}")
    fingerprint = _fingerprint(sources)
    if not force:
        current = _manifest_is_current(dist, fingerprint, version)
        if current is not None:
            return current
    else:
        # Only what this script makes: never wipe a folder it did not build.
        for name in ("app", "pyodide", "photos"):
            shutil.rmtree(dist / name, ignore_errors=True)
        (dist / "manifest.json").unlink(missing_ok=True)
    dist.mkdir(parents=True, exist_ok=True)

    app_hash = fingerprint[:16]
    _vendor_pyodide(client_dir, dist, version)
    _build_app(sources, dist, app_hash)
    _publish_photos(sources, dist)
    _prune(dist, keep_app=app_hash, keep_pyodide=version)

    app_dir = f"app/{app_hash}/"
    manifest: dict[str, object] = {
        "schema": MANIFEST_SCHEMA,
        "fingerprint": fingerprint,
        "pyodide_version": version,
        "pyodide_dir": f"pyodide/{version}/",
        "pyodide_module": f"pyodide/{version}/pyodide.mjs",
        "app_dir": app_dir,
        "bootstrap": app_dir + "bootstrap.js",
        "snapshot_worker": app_dir + "snapshot-worker.js",
        "stylesheet": app_dir + "app.css",
        "noscript_stylesheet": app_dir + "noscript.css",
        "app_archive": app_dir + "app.zip",
        "shared_pricing": "shared/pricing.py" in {n[4:] for n in sources if n.startswith("zip:")},
        "photos": photo_map(_photos_of(sources)),
    }
    tmp = dist / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, dist / "manifest.json")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=DEFAULT_DIST, help="output folder")
    parser.add_argument("--force", action="store_true", help="rebuild from scratch")
    args = parser.parse_args(argv)
    try:
        manifest = build(args.dist, force=args.force)
    except BuildError as err:
        print(f"wasm_client build failed: {err}", file=sys.stderr)
        return 1
    app_dir = args.dist / str(manifest["app_dir"])
    print(f"wasm_client: {app_dir} (pyodide {manifest['pyodide_version']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
