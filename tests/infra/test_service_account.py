"""Where the servers' files live as root (devstack/servers/account.py), without servers."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from devstack.servers.account import SERVICE_HOMES, ServiceAccount, sweep_orphans

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="only root hands the servers' files to the service account; run as root to test it",
)


def _as_account(account: ServiceAccount, *argv: str) -> int:
    entry = pwd.getpwnam(str(account.user))
    return subprocess.run(
        list(argv), user=entry.pw_uid, group=entry.pw_gid, extra_groups=[], check=False, cwd="/"
    ).returncode


def test_data_left_in_the_state_folder_is_moved_to_the_account_and_kept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "postgres" / "data").mkdir(parents=True)
    (state / "postgres" / "data" / "PG_VERSION").write_text("18\n")
    account = ServiceAccount.for_state(state)
    try:
        moved = account.server_dir("postgres", legacy=state / "postgres")

        info = moved.stat()
        assert moved == account.home / "postgres"
        assert moved.parent.parent == SERVICE_HOMES
        assert (moved / "data" / "PG_VERSION").read_text() == "18\n"
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (
            0o700,
            pwd.getpwnam("coffeeshop").pw_uid,
        )
        assert not (state / "postgres").exists()
    finally:
        account.purge()
    assert not account.home.exists()


def test_programs_in_a_private_folder_are_runnable_by_the_account_from_its_copy(
    tmp_path: Path,
) -> None:
    private = tmp_path / "private"
    (private / "pkg" / "bin").mkdir(parents=True)
    private.chmod(0o700)
    program = private / "pkg" / "bin" / "hello"
    program.write_text("#!/bin/sh\nexit 7\n")
    program.chmod(0o755)
    account = ServiceAccount.for_state(private / "state")
    try:
        runnable = account.runnable(private, "pkg") / "pkg" / "bin" / "hello"

        with pytest.raises(PermissionError):  # the failure: initdb in a private clone
            _as_account(account, str(program))
        assert _as_account(account, str(runnable)) == 7
        assert account.runnable(private, "pkg") == runnable.parents[2]  # made once
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
    finally:
        account.purge()


def test_sweep_removes_the_folders_of_state_folders_that_are_gone_and_only_those(
    tmp_path: Path,
) -> None:
    kept_state, gone_state = tmp_path / "kept", tmp_path / "gone"
    kept_state.mkdir()
    gone_state.mkdir()
    kept, gone = ServiceAccount.for_state(kept_state), ServiceAccount.for_state(gone_state)
    try:
        kept.server_dir("redis")
        gone.server_dir("redis")
        shutil.rmtree(gone_state)

        removed = sweep_orphans()

        assert gone.home in removed
        assert kept.home not in removed
        assert (kept.home / "redis").is_dir()
        assert not gone.home.exists()
    finally:
        kept.purge()
        gone.purge()


def test_a_state_folder_removed_and_made_again_at_the_same_path_starts_empty(
    tmp_path: Path,
) -> None:
    """`rm -rf .state` then `up`: the old servers' data (a database, OpenBao's store whose
    unseal keys were in the removed folder) must not be taken for the new folder's."""
    state = tmp_path / "state"
    account = ServiceAccount.for_state(state)
    try:
        (account.server_dir("openbao") / "data").write_text("sealed with keys now lost")
        kept = account.server_dir("openbao")  # the same folder, asked again: kept
        assert (kept / "data").exists()

        shutil.rmtree(state)
        state.mkdir()  # made again, as a new `up` does, before anything is swept
        fresh = account.server_dir("openbao")
        assert fresh == account.home / "openbao"
        assert not (fresh / "data").exists()

        (fresh / "data").write_text("new")
        shutil.rmtree(state)
        state.mkdir()
        assert account.home in sweep_orphans()  # the sweep at `up` finds it too
        assert not account.home.exists()
    finally:
        account.purge()
