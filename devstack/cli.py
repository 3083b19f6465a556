"""`manage_all.py` commands, run inside the project's virtual environment."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from devstack.base import REPO_ROOT, StartError, tail
from devstack.mesh import sidecar_parts
from devstack.sites import SITES
from devstack.stack import (
    DEFAULT_PORTS,
    MESH_MODES,
    PartStatus,
    Stack,
    StackConfig,
    default_state_dir,
    mesh_from_env,
    ports_from_env,
)
from devstack.workers import WORKERS
from shared.telemetry.config import trace_settings

_print_lock = threading.Lock()
_t0 = time.monotonic()


def progress(part: str, message: str) -> None:
    with _print_lock:
        print(f"[{time.monotonic() - _t0:6.1f}s] {part:<9} {message}", flush=True)


def load_stack(state_dir: Path) -> Stack:
    config = StackConfig.load(state_dir) or StackConfig(state_dir=state_dir, ports=ports_from_env())
    return Stack(config, progress)


def format_table(rows: list[PartStatus]) -> list[str]:
    """The status table's lines: each column as wide as its widest cell, two spaces
    between columns, memory right-aligned with its total under it."""
    header = ("part", "kind", "healthy", "pid", "memory", "url")
    cells = [
        (
            row.name,
            row.kind,
            "yes" if row.healthy else "NO",
            str(row.pid or "-"),
            f"{row.memory_mib:.0f} MiB",
            row.url,
        )
        for row in rows
    ]
    total = ("total", "", "", "", f"{sum(row.memory_mib for row in rows):.0f} MiB", "")
    widths = [max(len(line[i]) for line in (header, *cells, total)) for i in range(5)]

    def line(cell: tuple[str, ...]) -> str:
        padded = [f"{text:<{width}}" for text, width in zip(cell[:4], widths[:4], strict=True)]
        left = "  ".join(padded)
        return f"{left}  {cell[4]:>{widths[4]}}  {cell[5]}".rstrip()

    return [line(header), *(line(cell) for cell in cells), line(total)]


def print_table(stack: Stack) -> bool:
    rows = stack.status()
    print()
    print("\n".join(format_table(rows)))
    print()
    return all(row.healthy for row in rows)


def demo_password(stack: Stack) -> str:
    """The demo users' password: made once, kept in OpenBao (never in a file in the repo)."""
    client = stack.openbao.admin_client()
    try:
        data = client.secrets.kv.v2.read_secret_version(
            path="coffeeshop/demo", mount_point="secret", raise_on_deleted_version=True
        )
        return str(data["data"]["data"]["password"])
    except Exception:
        import secrets

        password = "demo-" + secrets.token_urlsafe(9)
        client.secrets.kv.v2.create_or_update_secret(
            path="coffeeshop/demo", secret={"password": password}, mount_point="secret"
        )
        return password


def seed_site(stack: Stack, site: str, password: str) -> None:
    """Demo users (Identity) or the admin account (Order, BFF); idempotent."""
    if site == "identity":
        progress(site, "seeding demo users")
        stack.manage("identity", "seed_demo", extra_env={"DEMO_PASSWORD": password})
        progress(site, "provisioning the OAuth clients")
        stack.manage(
            "identity", "ensure_oauth_clients", stdin=json.dumps(stack.oauth_client_specs())
        )
        return
    if site == "order":
        progress(site, "seeding the demo menu")
        stack.manage("order", "seed_menu")
    progress(site, "seeding the admin account")
    try:
        stack.manage(
            site,
            "createsuperuser",
            "--noinput",
            "--username",
            "admin",
            "--email",
            "admin@coffeeshop.local",
            extra_env={"DJANGO_SUPERUSER_PASSWORD": password},
        )
    except StartError as err:
        if "already taken" not in err.log_tail:
            raise


def traces_note() -> str:
    """What `up` says after the traces' address when the apps send none."""
    try:
        settings = trace_settings()
    except ValueError as err:
        return f"   ({err})"
    if settings.disabled:
        return "   (off: OTEL_SDK_DISABLED=true)"
    if settings.sample_ratio < 1:
        return f"   ({settings.sample_ratio:.0%} of new traces kept)"
    return ""


def cmd_up(args: argparse.Namespace) -> int:
    state_dir = default_state_dir()
    previous = StackConfig.load(state_dir)
    try:
        mesh = args.mesh or mesh_from_env()
    except ValueError as err:
        print(f"ERROR {err}", file=sys.stderr)
        return 2
    config = StackConfig(
        state_dir=state_dir,
        ports=ports_from_env(),
        mesh=mesh,
        dapr_mtls=os.environ.get("COFFEESHOP_DAPR_MTLS", "1") != "0",
    )
    if previous and previous.ports != config.ports:
        progress("stack", "ports changed since the last run; using the new ones")
    stack = Stack(config, progress)
    began = time.monotonic()
    try:
        stack.start_infra()
        stack.provision()
        password = demo_password(stack)
        stack.migrate_all(then=lambda site: seed_site(stack, site, password))
        stack.start_sites()
    except StartError as err:
        print(f"\nERROR {err}\n", file=sys.stderr)
        print("Everything already started has been stopped.", file=sys.stderr)
        stack.stop_all()
        return 1
    except KeyboardInterrupt:
        stack.stop_all()
        return 130
    elapsed = time.monotonic() - began
    healthy = print_table(stack)
    print(f"All parts {'healthy' if healthy else 'NOT all healthy'} after {elapsed:.1f}s.")
    print(f"""
  Dashboard         {stack.dashboard.url}   (every part, its logs, traces, metrics)
  Web app (BFF)     http://127.0.0.1:{config.ports["bff"]}/
  Identity          http://127.0.0.1:{config.ports["identity"]}/admin/
  Order             http://127.0.0.1:{config.ports["order"]}/admin/   API docs: /api/docs/
  E-mail sink       {stack.maildir}
  Traces (Zipkin)   {stack.traces.ui_url}{traces_note()}

  Demo logins (password for all: {password})
    Identity: manager@coffeeshop.local, barista@coffeeshop.local, customer@coffeeshop.local
    Order and BFF admin: admin
  Logs: python3 manage_all.py logs [PART]   Stop: python3 manage_all.py down
""")
    if args.detach:
        return 0 if healthy else 1
    print("Running. Press Ctrl-C to stop everything.")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        watched = [*WORKERS, *SITES, *(stack.mesh.sidecars if stack.mesh else ())]
        while not stopping.wait(2):
            for part in watched:
                proc = stack.process(part)
                if proc is not None and not proc.alive():
                    progress(part, "EXITED; last log lines:\n" + tail(proc.logfile, 15))
                    if stack.mesh is not None and part in stack.mesh.sidecars:
                        behind = stack.mesh.sidecars[part].app.process_name
                        progress(behind, f"has lost its Dapr sidecar ({part}): unavailable")
                    stopping.set()
                    break
    except KeyboardInterrupt:
        pass
    print()
    stack.stop_all()
    progress("stack", "stopped")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    stack = load_stack(default_state_dir())
    stack.stop_all()
    progress("stack", "stopped (data kept; `reset` wipes it)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state_dir = default_state_dir()
    stack = load_stack(state_dir)
    rows = stack.status()
    healthy = all(r.healthy for r in rows)
    if args.json:
        print(
            json.dumps(
                {
                    "healthy": healthy,
                    "state_dir": str(state_dir),
                    "parts": [r.__dict__ for r in rows],
                },
                indent=2,
            )
        )
    else:
        print_table(stack)
    return 0 if healthy else 1


def cmd_logs(args: argparse.Namespace) -> int:
    logs = default_state_dir() / "logs"
    parts = [args.part] if args.part else sorted(p.stem for p in logs.glob("*.log"))
    if not parts:
        print("no logs yet: run `python3 manage_all.py up` first")
        return 1
    if args.follow:
        files = [str(logs / f"{part}.log") for part in parts]
        return subprocess.call(["tail", "-n", str(args.lines), "-F", *files])
    for part in parts:
        print(f"==> {part} <==")
        print(tail(logs / f"{part}.log", args.lines))
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    state_dir = default_state_dir()
    load_stack(state_dir).purge()
    shutil.rmtree(state_dir, ignore_errors=True)
    progress("stack", f"wiped {state_dir}")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    """Run a site's manage.py against the running local stack (its env, its secrets)."""
    stack = load_stack(default_state_dir())
    env = dict(os.environ)
    env.update(stack.site_env(args.site))
    manage_py = REPO_ROOT / f"{args.site}_site" / "manage.py"
    return subprocess.call([sys.executable, str(manage_py), *args.args], env=env, cwd=REPO_ROOT)


def cmd_rotate_signing_key(args: argparse.Namespace) -> int:
    """Identity's `rotate_signing_key` with a five-minute token that may write its keys only.

    The orchestrator holds the root token; the site never does, and its AppRole stays
    read-only. The token goes in on stdin and is revoked afterwards.
    """
    stack = load_stack(default_state_dir())
    token = stack.signing_key_rotation_token()
    try:
        extra = ["--retire-after", str(args.retire_after)] if args.retire_after else []
        print(stack.manage("identity", "rotate_signing_key", *extra, stdin=token + "\n"), end="")
    except StartError as err:
        print(f"ERROR {err}", file=sys.stderr)
        return 1
    finally:
        stack.revoke_token(token)
    return 0


def cmd_images(args: argparse.Namespace) -> int:
    """Build every image of docker/Containerfile with podman (devstack/deploy/images.py)."""
    from devstack.deploy.images import ROLES, ImageError, build_images
    from devstack.deploy.podman import PodmanError

    began = time.monotonic()
    try:
        built = build_images(
            tuple(args.role) or ROLES,
            base_image=args.base_image,
            save_dir=args.save,
            log=lambda message: progress("images", message),
        )
    except (ImageError, PodmanError) as err:
        print(f"\nERROR {err}\n", file=sys.stderr)
        return 1
    print()
    width = max(len(image.ref) for image in built)
    for image in built:
        size = image.size_bytes / 1e6
        print(f"{image.ref:<{width}}  {size:6.0f} MB  built in {image.seconds:5.1f}s")
    print(f"\n{len(built)} images in {time.monotonic() - began:.1f}s")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from devstack.testrun import run_tests

    return run_tests(args.pytest_args, lint=not args.no_lint, progress=progress)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage_all.py", description="CoffeeShop on one machine.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start everything (Ctrl-C stops it)")
    up.add_argument("--detach", action="store_true", help="start in the background and return")
    up.add_argument(
        "--mesh",
        choices=MESH_MODES,
        help="how the apps reach each other and their secrets: direct (default) or through "
        "a Dapr sidecar each (dapr; daprd is built once, about 6 minutes). "
        "Default: COFFEESHOP_MESH, else direct",
    )
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop everything, keep data").set_defaults(func=cmd_down)
    status = sub.add_parser("status", help="every part's URL and health")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    logs = sub.add_parser("logs", help="show a part's log")
    logs.add_argument(
        "part", nargs="?", choices=[*DEFAULT_PORTS, *WORKERS, *sidecar_parts(), "dapr-sentry"]
    )
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=40)
    logs.set_defaults(func=cmd_logs)
    sub.add_parser("reset", help="stop everything and wipe local state").set_defaults(
        func=cmd_reset
    )
    manage = sub.add_parser("manage", help="run a site's manage.py against the local stack")
    manage.add_argument("site", choices=SITES)
    manage.add_argument("args", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    rotate = sub.add_parser(
        "rotate-signing-key",
        help="Identity: new ID-token signing key; the old one stays in the JWKS until "
        "its tokens have expired",
    )
    rotate.add_argument("--retire-after", type=int, metavar="SECONDS")
    rotate.set_defaults(func=cmd_rotate_signing_key)
    images = sub.add_parser(
        "images", help="build the container images (docker/) with podman, tagged by git revision"
    )
    images.add_argument(
        "role", nargs="*", default=[], help="only these (identity, order, bff, payments)"
    )
    images.add_argument(
        "--base-image", help="the base to build on (default: $BASE_IMAGE, else a local one)"
    )
    images.add_argument("--save", type=Path, metavar="DIR", help="also save each as an OCI archive")
    images.set_defaults(func=cmd_images)
    test = sub.add_parser("test", help="lint, type checks, import contracts and every test")
    test.add_argument("--no-lint", action="store_true")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(func=cmd_test)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
