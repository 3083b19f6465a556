"""wasm_client/build.py: vendors pinned Pyodide and the app into a versioned dist."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import shutil
import zipfile
from pathlib import Path

import brotli
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("wasm_build", REPO_ROOT / "wasm_client" / "build.py")
assert spec is not None
assert spec.loader is not None
build_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_module)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    dist = tmp_path_factory.mktemp("dist")
    return dist, build_module.build(dist)


def test_manifest_names_files_that_exist(built):
    dist, manifest = built

    assert json.loads((dist / "manifest.json").read_text()) == manifest
    for key in (
        "bootstrap",
        "snapshot_worker",
        "stylesheet",
        "noscript_stylesheet",
        "app_archive",
        "pyodide_module",
    ):
        assert (dist / manifest[key]).is_file(), key
    assert manifest["pyodide_version"] == "314.0.7"
    assert manifest["pyodide_dir"] == "pyodide/314.0.7/"
    assert manifest["app_dir"] == f"app/{manifest['fingerprint'][:16]}/"


def test_only_the_runtime_files_of_pyodide_are_vendored(built):
    dist, manifest = built
    pyodide_dir = dist / manifest["pyodide_dir"]

    names = sorted(
        p.name
        for p in pyodide_dir.iterdir()
        if not p.name.endswith((".gz", ".br")) and p.name != ".vendored"
    )
    assert names == sorted(build_module.PYODIDE_RUNTIME_FILES)
    assert (pyodide_dir / ".vendored").read_text().strip() == build_module.PYODIDE_VENDOR_FORMAT
    assert (pyodide_dir / "pyodide.asm.wasm").read_bytes()[:4] == b"\0asm"


def test_compressible_files_are_pre_compressed_with_gzip_and_brotli(built):
    dist, manifest = built
    wasm = dist / manifest["pyodide_dir"] / "pyodide.asm.wasm"

    assert gzip.decompress((wasm.parent / "pyodide.asm.wasm.gz").read_bytes()) == wasm.read_bytes()
    assert (
        brotli.decompress((wasm.parent / "pyodide.asm.wasm.br").read_bytes()) == wasm.read_bytes()
    )
    # Brotli is what makes it worth it: a fifth smaller than gzip -9 on the runtime.
    assert (wasm.parent / "pyodide.asm.wasm.br").stat().st_size < 0.85 * (
        wasm.parent / "pyodide.asm.wasm.gz"
    ).stat().st_size
    assert (dist / (manifest["bootstrap"] + ".gz")).is_file()
    assert (dist / (manifest["bootstrap"] + ".br")).is_file()


def test_zips_are_stored_so_the_whole_archive_compresses(built):
    dist, manifest = built
    stdlib = dist / manifest["pyodide_dir"] / "python_stdlib.zip"
    app = dist / manifest["app_archive"]

    for archive in (stdlib, app):
        with zipfile.ZipFile(archive) as zf:
            assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}, archive
            assert zf.testzip() is None
        compressed = archive.with_name(archive.name + ".br")
        assert brotli.decompress(compressed.read_bytes()) == archive.read_bytes()
    with zipfile.ZipFile(stdlib) as zf:
        # Still the whole standard library Pyodide ships, as Python imports it.
        assert "json/__init__.py" in zf.namelist()
        assert "asyncio/__init__.py" in zf.namelist()
    # The archive as a whole, compressed, is far smaller than entry-by-entry deflate.
    original = REPO_ROOT / "wasm_client" / "node_modules" / "pyodide" / "python_stdlib.zip"
    assert stdlib.with_name("python_stdlib.zip.br").stat().st_size < 0.8 * original.stat().st_size


def test_an_older_vendored_pyodide_folder_is_vendored_again(built, tmp_path):
    dist, manifest = built
    copy = tmp_path / "dist"
    shutil.copytree(dist, copy)
    stamp = copy / manifest["pyodide_dir"] / ".vendored"
    stamp.unlink()

    assert not build_module._pyodide_complete(copy / manifest["pyodide_dir"])


def test_app_archive_holds_every_module_of_the_client_subpackages_included(built):
    dist, manifest = built
    src = REPO_ROOT / "wasm_client" / "src"
    modules = {p.relative_to(src).as_posix() for p in (src / "coffeeshop_client").rglob("*.py")}

    with zipfile.ZipFile(dist / manifest["app_archive"]) as zf:
        names = set(zf.namelist())

    assert "coffeeshop_client/views/components.py" in modules
    assert sorted(modules - names) == []


def test_app_archive_holds_the_client_and_the_shared_price_module(built):
    dist, manifest = built

    with zipfile.ZipFile(dist / manifest["app_archive"]) as zf:
        names = set(zf.namelist())
        assert {
            "coffeeshop_client/__init__.py",
            "coffeeshop_client/app.py",
            "coffeeshop_client/browser.py",
        } <= names
        if (REPO_ROOT / "shared" / "pricing.py").is_file():
            assert manifest["shared_pricing"] is True
            assert (
                zf.read("shared/pricing.py") == (REPO_ROOT / "shared" / "pricing.py").read_bytes()
            )
            assert zf.read("shared/__init__.py") == b""
        assert (
            zf.read("shared/allergens.py") == (REPO_ROOT / "shared" / "allergens.py").read_bytes()
        )
        packed = {f"shared/{name}" for name in build_module.BROWSER_SHARED_MODULES}
        assert not any(
            n.startswith("shared/") and n not in packed | {"shared/__init__.py"} for n in names
        )


def test_second_build_is_a_no_op(built):
    dist, manifest = built
    before = (dist / "manifest.json").stat().st_mtime_ns

    again = build_module.build(dist)

    assert again == manifest
    assert (dist / "manifest.json").stat().st_mtime_ns == before


@pytest.fixture
def scratch_repo(tmp_path) -> Path:
    """A copy of the client's sources (and the shared modules it packs), sharing the real
    node_modules."""
    client = tmp_path / "repo" / "wasm_client"
    (tmp_path / "repo" / "shared").mkdir(parents=True)
    for name in build_module.BROWSER_SHARED_MODULES:
        shutil.copyfile(REPO_ROOT / "shared" / name, tmp_path / "repo" / "shared" / name)
    shutil.copytree(
        REPO_ROOT / "wasm_client" / "src",
        client / "src",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(REPO_ROOT / "wasm_client" / "static", client / "static")
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(REPO_ROOT / "wasm_client" / name, client / name)
    node_modules = REPO_ROOT / "wasm_client" / "node_modules"
    if node_modules.is_dir():
        os.symlink(node_modules, client / "node_modules")
    return tmp_path / "repo"


def test_changed_sources_get_a_new_versioned_path_and_old_builds_are_pruned(scratch_repo, tmp_path):
    dist = tmp_path / "dist"
    app_py = scratch_repo / "wasm_client" / "src" / "coffeeshop_client" / "app.py"
    seen = []
    for n in range(build_module.KEEP_APP_BUILDS + 2):
        app_py.write_text(app_py.read_text() + f"\n# change {n}\n")
        seen.append(build_module.build(dist, repo_root=scratch_repo)["app_dir"])

    assert len(set(seen)) == len(seen)
    kept = sorted(p.name for p in (dist / "app").iterdir())
    assert len(kept) == build_module.KEEP_APP_BUILDS
    assert seen[-1].strip("/").split("/")[1] in kept
    with zipfile.ZipFile(dist / seen[-1] / "app.zip") as zf:
        packed = {n for n in zf.namelist() if n.startswith("shared/")}
    # The shared modules the client imports (in an empty package), no other part of shared/.
    wanted = {f"shared/{name}" for name in build_module.BROWSER_SHARED_MODULES}
    assert packed == wanted | {"shared/__init__.py"}


def test_a_checkout_without_the_shared_modules_is_a_build_error(scratch_repo, tmp_path):
    (scratch_repo / "shared" / "allergens.py").unlink()
    with pytest.raises(build_module.BuildError, match=r"allergens\.py"):
        build_module.build(tmp_path / "dist", repo_root=scratch_repo)


def test_force_rebuilds_without_touching_other_files(built, tmp_path):
    dist = tmp_path / "dist"
    build_module.build(dist)
    (dist / "keep.txt").write_text("not ours")

    manifest = build_module.build(dist, force=True)

    assert (dist / "keep.txt").read_text() == "not ours"
    assert (dist / manifest["app_archive"]).is_file()


def test_built_folders_are_readable_by_the_user_the_bff_runs_as(built):
    dist, manifest = built

    for folder in (dist / manifest["pyodide_dir"], dist / manifest["app_dir"]):
        assert folder.stat().st_mode & 0o755 == 0o755


def test_every_listed_photo_is_served_under_a_name_made_of_its_content(built):
    dist, manifest = built
    from shared.photos import PHOTOS

    assert sorted(manifest["photos"]) == sorted(PHOTOS)
    for key, served in manifest["photos"].items():
        source = REPO_ROOT / "wasm_client" / "static" / "photos" / f"{key}.svg"
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
        assert served == f"photos/{key}.{digest}.svg"
        assert (dist / served).read_bytes() == source.read_bytes()
        assert gzip.decompress((dist / (served + ".gz")).read_bytes()) == source.read_bytes()


def test_the_app_archive_names_the_photos_files_so_both_sides_render_the_same_src(built):
    dist, manifest = built

    with zipfile.ZipFile(dist / manifest["app_archive"]) as zf:
        packed = json.loads(zf.read(build_module.PHOTO_MAP_ENTRY))

    assert packed == manifest["photos"]


def test_every_photo_file_is_listed_and_every_listed_photo_has_its_file():
    from shared.photos import PHOTOS

    files = {p.stem for p in (REPO_ROOT / "wasm_client" / "static" / "photos").glob("*")}

    assert files == set(PHOTOS)


def test_a_listed_photo_without_its_file_is_a_build_error_naming_it(scratch_repo, tmp_path):
    (scratch_repo / "wasm_client" / "static" / "photos" / "latte.svg").unlink()

    with pytest.raises(build_module.BuildError, match=r"latte\.svg"):
        build_module.build(tmp_path / "dist", repo_root=scratch_repo)
    assert not (tmp_path / "dist" / "manifest.json").exists()


def test_a_redrawn_photo_gets_a_new_name_and_the_old_one_stays_for_older_pages(
    scratch_repo, tmp_path
):
    dist = tmp_path / "dist"
    latte = scratch_repo / "wasm_client" / "static" / "photos" / "latte.svg"
    first = build_module.build(dist, repo_root=scratch_repo)["photos"]["latte"]
    latte.write_text(latte.read_text().replace("#6b3f22", "#5a3019"))

    second = build_module.build(dist, repo_root=scratch_repo)["photos"]["latte"]

    assert second != first
    assert (dist / first).is_file()  # a page of the previous build still shows it
    assert (dist / second).read_text() == latte.read_text()


def test_photos_no_kept_build_names_are_pruned(scratch_repo, tmp_path):
    dist = tmp_path / "dist"
    latte = scratch_repo / "wasm_client" / "static" / "photos" / "latte.svg"
    first = build_module.build(dist, repo_root=scratch_repo)["photos"]["latte"]
    for n in range(build_module.KEEP_APP_BUILDS):
        latte.write_text(latte.read_text() + f"<!-- {n} -->\n")
        build_module.build(dist, repo_root=scratch_repo)

    assert not (dist / first).exists()
    assert not (dist / (first + ".gz")).exists()
