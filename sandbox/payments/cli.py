"""`python -m sandbox.payments`: start the sandbox on a port, on a journal folder."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from sandbox.payments.rules import TOKEN_TTL_SECONDS, Knobs, PaymentSandbox
from sandbox.payments.server import HOST, SandboxServer

logger = logging.getLogger("sandbox.payments")


def knobs_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> Knobs:
    return Knobs(
        latency_ms=int(environ.get("SANDBOX_PAYMENTS_LATENCY_MS", "0")),
        failure_rate=float(environ.get("SANDBOX_PAYMENTS_FAILURE_RATE", "0")),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stripe-like payment provider sandbox.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True, help="folder of the journal")
    parser.add_argument("--key-file", type=Path, required=True, help="file holding the API key")
    parser.add_argument(
        "--publishable-key-file",
        type=Path,
        help="file holding the publishable key (pk_…) browsers tokenize cards with",
    )
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        help="a browser origin allowed to tokenize cards (CORS), e.g. the BFF's; repeatable",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    api_key = args.key_file.read_text().strip()
    publishable = args.publishable_key_file.read_text().strip() if args.publishable_key_file else ""
    app = PaymentSandbox(
        data_dir=args.data,
        api_key=api_key,
        knobs=knobs_from_env(),
        publishable_key=publishable,
        allowed_origins=args.allowed_origin,
        token_ttl=int(os.environ.get("SANDBOX_PAYMENTS_TOKEN_TTL_S", str(TOKEN_TTL_SECONDS))),
    )
    server = SandboxServer(args.port, app)

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    counts = app.ledger.counts()
    logger.info("payment sandbox listening on http://%s:%d (journal: %s)", HOST, args.port, counts)
    server.serve_forever()
    server.server_close()
    return 0
