"""A local SMTP sink (aiosmtpd) standing in for the external e-mail provider.

Every message it receives is stored in a Maildir under `<state>/smtp/`, where tests
and people can read it. `SmtpSink` runs this module as
`python -m devstack.servers.smtp --port N --maildir DIR` (as ourselves: it is our code).
"""

from __future__ import annotations

import argparse
import mailbox
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from devstack.base import REPO_ROOT, tcp_open, wait_until
from devstack.servers.server import Server


class MaildirHandler:
    def __init__(self, maildir: Path) -> None:
        maildir.parent.mkdir(parents=True, exist_ok=True)
        self.box = mailbox.Maildir(str(maildir), create=True)
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = mailbox.MaildirMessage(envelope.original_content or envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.lock:
            self.box.add(message)
        return "250 Message accepted for delivery"


def read_messages(maildir: Path) -> list[mailbox.MaildirMessage]:
    """Every message the sink has stored, oldest first."""
    if not maildir.exists():
        return []
    box = mailbox.Maildir(str(maildir), create=False)
    messages = [box.get_message(key) for key in box.iterkeys()]
    return sorted(messages, key=lambda m: m.get_date())


class SmtpSink(Server):
    """This module's sink as a local server; mail lands in `<state>/smtp/maildir`."""

    name = "smtp"
    scheme = "smtp"
    stop_timeout = 10

    @property
    def maildir(self) -> Path:
        return self.state_dir / "smtp" / "maildir"

    def start(self) -> None:
        if self.process().alive():
            return
        argv = [sys.executable, "-m", __name__, "--port", str(self.port)]
        proc = self.spawn(
            [*argv, "--maildir", str(self.maildir)],
            as_account=False,
            env={"PYTHONPATH": str(REPO_ROOT)},
            cwd=REPO_ROOT,
        )
        wait_until(self.name, self.healthy, timeout=20, process=proc)

    def healthy(self) -> bool:
        return tcp_open(self.port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(MaildirHandler(args.maildir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"smtp sink listening on 127.0.0.1:{args.port}, storing into {args.maildir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
