"""Make the images' venv small, then split it by the roles that need each package.

Run by docker/Containerfile's `python-deps` stage with the venv's own Python (standard
library only), after pip has installed docker/requirements.txt:

    python3 docker/venv_layers.py slim  /opt/venv
    python3 -m compileall … /opt/venv/lib
    python3 docker/venv_layers.py split /opt/venv docker/requirements.in /opt/venv-layers

`slim` removes what no container reads (each rule below says why) and strips the
debugging symbols from every shared object (`strip --strip-unneeded`; binutils is in
the build stage only). It prints what each rule saved.

`split` reads the roles each top-level requirement of docker/requirements.in is for
(`# roles: identity order` at the end of its line; none means every site) and follows
each package's `Requires-Dist` (with the extras asked for) to the installed packages a
role needs. A package every site needs stays in the venv, the image layer the three
site images share; the others move, with their byte-code, entry-point scripts and
metadata, to `<layers>/<roles>/` (e.g. `identity-order/` for Celery), which each
image whose role is named copies over `/opt/venv`. So the BFF carries no Celery, Order
and the BFF no OAuth provider, Identity and Order no ASGI server.
"""

from __future__ import annotations

import argparse
import email.parser
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROLES = ("identity", "order", "bff")

# Directories no running site reads, by name anywhere in site-packages: libraries' own
# test suites and benchmarks (jsonschema, referencing, …).
PRUNE_DIR_NAMES = ("tests", "benchmarks")
# Files by suffix: type stubs (for mypy, not in an image), Cython and C sources of the
# compiled extensions, and translation sources (only the compiled .mo are read).
PRUNE_SUFFIXES = (".pyi", ".pyx", ".pxd", ".pxi", ".c", ".h", ".po")
# Whole folders of packages the sites never import or serve:
PRUNE_PATHS = (
    # GeoDjango: no site is spatial (it would need GDAL/GEOS, which the image lacks).
    "django/contrib/gis",
    # The browsable API's Bootstrap, jQuery, fonts and source maps: every site renders
    # JSON only (REST_FRAMEWORK's DEFAULT_RENDERER_CLASSES in shared/settings.py), so
    # no page links them and collectstatic has nothing of DRF's to collect.
    "rest_framework/static",
    # confluent-kafka's Schema Registry and Avro clients: they need extras the images
    # don't install (cachetools, fastavro …), so they could not be imported anyway;
    # the events are JSON (shared/events.py).
    "confluent_kafka/schema_registry",
    "confluent_kafka/avro",
)
# Translations: LANGUAGE_CODE is en-gb and no site offers another language, so only
# the English catalogues are kept.
KEPT_LOCALES = ("en", "en_GB")

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_ROLES_COMMENT = re.compile(r"#\s*roles:\s*([a-z ,]+)$")


def canonical(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


# ---- slim --------------------------------------------------------------------------


def slim(venv: Path, *, strip: str | None = "strip") -> dict[str, int]:
    """Remove what no container reads and strip shared objects; {rule: bytes saved}."""
    site = site_packages(venv)
    saved: dict[str, int] = {}

    def remove(rule: str, path: Path) -> None:
        saved[rule] = saved.get(rule, 0) + _size(path)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()

    for relative in PRUNE_PATHS:
        if (site / relative).exists():
            remove(relative, site / relative)
    for path in sorted(site.rglob("*"), key=lambda p: len(p.parts)):
        if not path.exists() or path.is_symlink():
            continue
        if path.is_dir() and path.name in PRUNE_DIR_NAMES:
            remove(f"*/{path.name}/", path)
        elif path.is_dir() and path.name == "LC_MESSAGES" and path.parent.parent.name == "locale":
            if path.parent.name not in KEPT_LOCALES:
                remove("locale/<not English>/LC_MESSAGES", path)
        elif path.is_file() and path.suffix in PRUNE_SUFFIXES:
            remove(f"*{path.suffix}", path)
    if strip:
        rule = "strip --strip-unneeded"
        for path in sorted(site.rglob("*.so*")):
            if path.is_file() and not path.is_symlink() and _is_elf(path):
                saved[rule] = saved.get(rule, 0) + _strip(strip, path)
    _remove_empty_dirs(venv)
    return saved


def _strip(strip: str, path: Path) -> int:
    """Strip `path` into a new file and put it in place only if smaller (a library that
    is already stripped can grow when rewritten); never writes the old file in place.
    Returns the bytes saved."""
    stripped = path.with_name(path.name + ".stripped")
    subprocess.run([strip, "--strip-unneeded", "-o", str(stripped), str(path)], check=True)
    saved = path.stat().st_size - stripped.stat().st_size
    if saved > 0:
        shutil.copymode(path, stripped)
        os.replace(stripped, path)
        return saved
    stripped.unlink()
    return 0


def _is_elf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"\x7fELF"


def _size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())


def _remove_empty_dirs(root: Path) -> None:
    for folder, _dirs, _files in sorted(os.walk(root), key=lambda t: -len(Path(t[0]).parts)):
        path = Path(folder)
        if path != root and not any(path.iterdir()):
            path.rmdir()


# ---- split -------------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """An installed distribution: its name, what it requires, and its files."""

    name: str
    dist_info: Path
    requires: tuple[str, ...]

    def files(self, site: Path) -> Iterator[Path]:
        """Every file the distribution installed (its RECORD), as absolute paths."""
        record = self.dist_info / "RECORD"
        if record.exists():
            for line in record.read_text().splitlines():
                relative = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line
                if relative:
                    yield Path(os.path.normpath(site / relative))


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if len(found) != 1:
        raise SystemExit(f"{venv}: expected one lib/python3*/site-packages, found {found}")
    return found[0]


def installed(site: Path) -> dict[str, Distribution]:
    """{canonical name: Distribution} of everything installed in `site`."""
    parser = email.parser.HeaderParser()
    found = {}
    for dist_info in sorted(site.glob("*.dist-info")):
        metadata = parser.parsestr((dist_info / "METADATA").read_text(errors="replace"))
        name = canonical(metadata["Name"])
        found[name] = Distribution(
            name=name, dist_info=dist_info, requires=tuple(metadata.get_all("Requires-Dist") or ())
        )
    return found


def requirement_roles(requirements_in: str) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """{name: (extras, roles)} of each top-level requirement in requirements.in text."""
    wanted: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for line in requirements_in.splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = _REQUIREMENT.match(text.strip("\"'"))
        if match is None:
            raise SystemExit(f"requirements.in: can't read {line!r}")
        extras = frozenset(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
        roles_match = _ROLES_COMMENT.search(text)
        roles = (
            frozenset(re.split(r"[ ,]+", roles_match.group(1).strip()))
            if roles_match
            else frozenset(ROLES)
        )
        unknown = roles - set(ROLES)
        if unknown:
            raise SystemExit(f"requirements.in: unknown roles {sorted(unknown)} in {line!r}")
        wanted[canonical(match.group(1))] = (extras, roles)
    return wanted


def roles_of_distributions(
    distributions: dict[str, Distribution], requirements_in: str
) -> dict[str, frozenset[str]]:
    """{installed distribution: the roles that need it}: the top-level requirements'
    roles, carried through every `Requires-Dist` whose extras were asked for. A
    requirement with an environment marker (python_version, platform) counts when the
    package is installed: pip resolved for this platform, so that is the safe side."""
    needed: dict[str, set[str]] = {name: set() for name in distributions}
    for name, (extras, roles) in requirement_roles(requirements_in).items():
        for role in roles:
            _visit(distributions, name, extras, role, needed, set())
    return {name: frozenset(roles) for name, roles in needed.items()}


def _visit(
    distributions: dict[str, Distribution],
    name: str,
    extras: frozenset[str],
    role: str,
    needed: dict[str, set[str]],
    seen: set[tuple[str, frozenset[str]]],
) -> None:
    if (name, extras) in seen or name not in distributions:
        return
    seen.add((name, extras))
    needed[name].add(role)
    for requirement in distributions[name].requires:
        spec, _, marker = requirement.partition(";")
        marker_extras = set(_EXTRA.findall(marker))
        if marker_extras and not marker_extras & extras:
            continue
        match = _REQUIREMENT.match(spec)
        if match is None:
            continue
        wanted_extras = frozenset(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
        _visit(distributions, canonical(match.group(1)), wanted_extras, role, needed, seen)


def layer_name(roles: Iterable[str]) -> str | None:
    """The layer folder of packages needed by `roles` (None: every site, the venv)."""
    chosen = [role for role in ROLES if role in set(roles)]
    if not chosen or len(chosen) == len(ROLES):
        return None
    return "-".join(chosen)


def layer_names() -> list[str]:
    """Every layer folder `split` makes (some may stay empty)."""
    names = []
    for size in range(len(ROLES) - 1, 0, -1):
        for mask in range(1, 2 ** len(ROLES)):
            roles = [role for i, role in enumerate(ROLES) if mask >> i & 1]
            if len(roles) == size:
                names.append("-".join(roles))
    return names


def split(venv: Path, requirements_in: str, layers: Path) -> dict[str, list[str]]:
    """Move each package not every site needs into `layers/<roles>/`, paths relative to
    the venv kept (site-packages, bin/). Returns {layer: [distributions]}."""
    site = site_packages(venv)
    distributions = installed(site)
    roles = roles_of_distributions(distributions, requirements_in)
    for name in layer_names():
        (layers / name).mkdir(parents=True, exist_ok=True)
    moved: dict[str, list[str]] = {}
    for name, dist in sorted(distributions.items()):
        if not roles[name]:
            print(f"venv_layers: {name} is needed by no role; kept for every site", file=sys.stderr)
        layer = layer_name(roles[name])
        if layer is None:
            continue
        moved.setdefault(layer, []).append(name)
        for path in [*dist.files(site), dist.dist_info]:
            if path.is_relative_to(venv) and path.exists():
                _move(path, venv, layers / layer)
                if path.suffix == ".py":
                    for cached in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
                        _move(cached, venv, layers / layer)
    _remove_empty_dirs(venv)
    return moved


def _move(path: Path, venv: Path, layer: Path) -> None:
    """Move a file, or what is left of a folder, to the same place under `layer`."""
    if path.is_dir() and not path.is_symlink():
        for child in list(path.iterdir()):
            _move(child, venv, layer)
        path.rmdir()
        return
    target = layer / path.relative_to(venv)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)


# ---- command line ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    slim_cmd = commands.add_parser("slim", help="remove what no container reads; strip")
    slim_cmd.add_argument("venv", type=Path)
    slim_cmd.add_argument("--no-strip", action="store_true")
    split_cmd = commands.add_parser("split", help="move packages into per-role layers")
    split_cmd.add_argument("venv", type=Path)
    split_cmd.add_argument("requirements_in", type=Path)
    split_cmd.add_argument("layers", type=Path)
    args = parser.parse_args(argv)
    if args.command == "slim":
        saved = slim(args.venv, strip=None if args.no_strip else "strip")
        for rule, size in sorted(saved.items(), key=lambda item: -item[1]):
            print(f"  {size / 1e6:7.1f} MB  {rule}")
        print(f"  {sum(saved.values()) / 1e6:7.1f} MB  removed from {args.venv}")
    else:
        moved = split(args.venv, args.requirements_in.read_text(), args.layers)
        for layer, names in sorted(moved.items()):
            print(f"  {layer}: {' '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
