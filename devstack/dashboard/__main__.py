"""`python -m devstack.dashboard --port N --state-dir DIR`: serve the dashboard of the
stack whose state folder is DIR (it must have been started: its stack.json)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devstack.dashboard.server import serve
from devstack.stack import Stack, StackConfig


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.dashboard", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args()
    config = StackConfig.load(args.state_dir)
    if config is None:
        print(f"no stack.json in {args.state_dir}: start the stack first", file=sys.stderr)
        return 1
    serve(Stack(config), args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
