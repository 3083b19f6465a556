"""The recipes' pure parts: go.mod rewriting for kube-apiserver, schema localising."""

from __future__ import annotations

from devstack.deploy.schemas import localise
from devstack.deploy.tools import rewrite_staging_replaces

GOMOD = """module k8s.io/kubernetes

require (
\tk8s.io/api v0.0.0
\tgithub.com/spf13/cobra v1.10.2
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/cri-client => ./staging/src/k8s.io/cri-client
\tgithub.com/example/fork => github.com/example/fork v1.2.3
)
"""


def test_staging_replaces_point_at_the_published_modules_of_the_same_release() -> None:
    rewritten = rewrite_staging_replaces(GOMOD, "v1.37.2")
    assert "\tk8s.io/api => k8s.io/api v0.37.2\n" in rewritten
    assert "\tk8s.io/cri-client => k8s.io/cri-client v0.37.2\n" in rewritten
    assert "./staging" not in rewritten
    # Everything else stays as it was.
    assert "\tgithub.com/example/fork => github.com/example/fork v1.2.3\n" in rewritten
    assert "\tk8s.io/api v0.0.0\n" in rewritten


def test_localised_schemas_drop_their_id_and_refer_to_definitions_beside_them() -> None:
    schema = {
        "$id": "https://kubernetes.io/api/deployment/apps/v1",
        "properties": {
            "metadata": {"$ref": "/api/_definitions.json#/$defs/meta.v1.ObjectMeta"},
            "spec": {"allOf": [{"$ref": "#/$defs/local"}]},
        },
    }
    assert localise(schema) == {
        "properties": {
            "metadata": {"$ref": "_definitions.json#/$defs/meta.v1.ObjectMeta"},
            "spec": {"allOf": [{"$ref": "#/$defs/local"}]},
        }
    }
