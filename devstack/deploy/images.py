"""`manage_all.py images`: build every image of `docker/Containerfile` with podman.

The base is `BASE_IMAGE` from the environment when given (e.g. the official
`docker.io/library/python:3.11-slim-bookworm`); otherwise a Debian bookworm base this
project makes with mmdebstrap (no container registry here), kept as a tar file in
`.cache/images/` and imported once into podman's store. Images are tagged with the git
revision (`-dirty` when the tree has changes) and `latest`; `--save DIR` writes each as
an OCI archive.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devstack.base import REPO_ROOT
from devstack.deploy.cache import machine_cache
from devstack.deploy.podman import PodmanError, ensure_podman, image_exists, image_size, podman

IMAGES_CACHE = machine_cache() / "images"
CONTAINERFILE = REPO_ROOT / "docker" / "Containerfile"
# One final stage of docker/Containerfile per role (docker/README.md).
ROLES = ("identity", "order", "bff", "payments")
IMAGE_PREFIX = "localhost/coffeeshop-"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

SUITE = "bookworm"
MIRRORS = (
    f"deb http://deb.debian.org/debian {SUITE} main",
    f"deb http://deb.debian.org/debian {SUITE}-updates main",
    f"deb http://deb.debian.org/debian-security {SUITE}-security main",
)
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# Nothing of these is needed at run time; leaving them out keeps the base small.
DPKG_EXCLUDES = (
    "/usr/share/doc/*",
    "/usr/share/man/*",
    "/usr/share/info/*",
    "/usr/share/locale/*",
    "/usr/share/lintian/*",
)
APT_OPTIONS = ('Apt::Install-Recommends "false"',)
# Set up the merged /usr directly: otherwise the `usrmerge` package is installed, and
# with it the whole of Perl (46 MB no container needs).
MERGED_USR_HOOK = "/usr/share/mmdebstrap/hooks/merged-usr"
# Left-overs of the bootstrap that no container reads.
CLEANUP = (
    "/var/cache/debconf/*-old",
    "/var/lib/apt/lists/*",
    "/var/log/*",
    "/var/cache/ldconfig/aux-cache",
)
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ImageError(RuntimeError):
    """An image could not be made; the message says which and why."""


@dataclass(frozen=True)
class Built:
    role: str
    ref: str
    size_bytes: int
    seconds: float


def base_recipe() -> str:
    """Everything that decides the local base's contents, as one string (its cache key)."""
    return "\n".join(
        [
            SUITE,
            *MIRRORS,
            ",".join(BASE_PACKAGES),
            *DPKG_EXCLUDES,
            *APT_OPTIONS,
            MERGED_USR_HOOK,
            *CLEANUP,
            BASE_PATH,
            "minbase",
        ]
    )


def local_base_ref() -> str:
    digest = hashlib.sha256(base_recipe().encode()).hexdigest()[:12]
    return f"{IMAGE_PREFIX}base:{SUITE}-{digest}"


def ensure_local_base(log: Callable[[str], None] = print) -> str:
    """The mmdebstrap-made base in podman's store (made or imported on first need)."""
    ref = local_base_ref()
    if image_exists(ref):
        return ref
    IMAGES_CACHE.mkdir(parents=True, exist_ok=True)
    tarball = IMAGES_CACHE / f"{ref.rsplit('/', 1)[1].replace(':', '-')}.tar"
    if not tarball.exists():
        if shutil.which("mmdebstrap") is None:
            raise ImageError("mmdebstrap is needed to make the base image (apt-get install it)")
        log(f"making the base image with mmdebstrap ({SUITE} minbase + python3), once")
        partial = tarball.with_suffix(".partial")
        argv = [
            "mmdebstrap",
            "--variant=minbase",
            "--format=tar",
            "--include=" + ",".join(BASE_PACKAGES),
            *(f"--dpkgopt=path-exclude={pattern}" for pattern in DPKG_EXCLUDES),
            "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            *(f"--aptopt={option}" for option in APT_OPTIONS),
            *([f"--hook-dir={MERGED_USR_HOOK}"] if Path(MERGED_USR_HOOK).is_dir() else []),
            "--customize-hook=rm -rf " + " ".join(f'"$1"{path}' for path in CLEANUP),
            SUITE,
            str(partial),
            *MIRRORS,
        ]
        result = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise ImageError(f"mmdebstrap failed:\n{(result.stdout + result.stderr)[-3000:]}")
        partial.rename(tarball)
    log(f"importing the base image {ref}")
    # `podman kube play` gives a container no PATH of its own: the image must carry it.
    podman(
        "import",
        "--change",
        f"ENV PATH={BASE_PATH}",
        "--change",
        "ENV LANG=C.UTF-8",
        "--change",
        'CMD ["python3"]',
        str(tarball),
        ref,
    )
    return ref


def git_revision() -> str:
    """The short commit id, with `-dirty` when tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    revision = git("rev-parse", "--short=12", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        revision += "-dirty"
    return revision


def project_version() -> str:
    import tomllib

    with (REPO_ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def image_ref(role: str, tag: str) -> str:
    return f"{IMAGE_PREFIX}{role}:{tag}"


def build_daprd_image(*, log: Callable[[str], None] = print) -> str:
    """`localhost/coffeeshop-daprd:<dapr version>` from docker/Containerfile.daprd and the
    daprd binary devstack.gotools builds (taken from the machine's cache when there)."""
    from devstack.deploy.cache import cached_binary
    from devstack.gotools import DAPR_VERSION, DAPRD, binary_path, ensure

    ensure_podman(log)
    base = os.environ.get("BASE_IMAGE") or ensure_local_base(log)
    ref = f"{IMAGE_PREFIX}daprd:{DAPR_VERSION}"
    if image_exists(ref):
        return ref
    binary = cached_binary(binary_path(DAPRD), lambda: ensure(DAPRD, say=log))
    log(f"building {ref} on {base}")
    with tempfile.TemporaryDirectory(prefix="daprd-image-") as context:
        shutil.copy2(binary, Path(context) / "daprd")
        podman(
            "build",
            "--file",
            str(REPO_ROOT / "docker" / "Containerfile.daprd"),
            "--format=docker",
            "--pull=never" if base.startswith("localhost/") else "--pull=missing",
            "--build-arg",
            f"BASE_IMAGE={base}",
            "--build-arg",
            f"VERSION={DAPR_VERSION}",
            "--tag",
            ref,
            context,
        )
    return ref


def build_images(
    roles: tuple[str, ...] = ROLES,
    *,
    base_image: str | None = None,
    save_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> list[Built]:
    """Build `roles` from docker/Containerfile; return each image's ref, size and time.

    Raises ImageError (or PodmanError) naming the image that failed."""
    ensure_podman(log)
    base = base_image or os.environ.get("BASE_IMAGE") or ensure_local_base(log)
    revision = git_revision()
    version = project_version()
    built: list[Built] = []
    for role in roles:
        ref = image_ref(role, revision)
        log(f"building {ref} on {base}")
        began = time.monotonic()
        argv = [
            "build",
            "--file",
            str(CONTAINERFILE),
            "--target",
            role,
            "--layers",
            # Docker's image format: OCI's has no HEALTHCHECK.
            "--format=docker",
            "--pull=never" if base.startswith("localhost/") else "--pull=missing",
            "--build-arg",
            f"BASE_IMAGE={base}",
            "--build-arg",
            f"VERSION={version}",
            "--build-arg",
            f"REVISION={revision}",
            "--tag",
            ref,
            "--tag",
            image_ref(role, "latest"),
        ]
        if Path(CA_BUNDLE).exists():
            argv += ["--secret", f"id=cacert,src={CA_BUNDLE}"]
        try:
            podman(*argv, str(REPO_ROOT))
        except PodmanError as err:
            raise ImageError(f"image {role}: {err}") from None
        built.append(Built(role, ref, image_size(ref), time.monotonic() - began))
        if save_dir is not None:
            save_dir.mkdir(parents=True, exist_ok=True)
            archive = save_dir / f"coffeeshop-{role}-{revision}.oci.tar"
            archive.unlink(missing_ok=True)
            podman("save", "--format", "oci-archive", "--output", str(archive), ref)
            log(f"saved {archive}")
    return built
