"""Deployment tooling: container images (`docker/`), the Helm chart (`charts/`) and the
tools that prove them here (podman, helm, kubeconform, kube-apiserver and etcd)."""
