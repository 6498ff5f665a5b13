"""A real IMAP server for the tests: Debian's Dovecot (dovecot-imapd), started in a temporary
folder on a free 127.0.0.1 port with one mailbox user, plain login, no TLS, and stopped after.
Tests that need it skip with a clear message where it is not installed."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from flowdesk.testing.postgres import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "service@northwind.example"
PASSWORD = "imap-secret"

needs_dovecot = pytest.mark.skipif(
    not Path(DOVECOT).exists(),
    reason="Dovecot is absent: install Debian's dovecot-imapd to run the IMAP tests",
)


@dataclass(frozen=True)
class Imap:
    host: str
    port: int
    username: str
    password: str


def _accounts() -> tuple[str, str, str]:
    """(internal user, login user, mail user): Dovecot's own users when run as root (mail as
    root is refused), else the current user for all three."""
    if os.geteuid() == 0:
        return "dovecot", "dovenull", "dovecot"
    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, me, me


@contextmanager
def dovecot() -> Iterator[Imap]:
    internal, login, mail = _accounts()
    group = grp.getgrgid(pwd.getpwnam(mail).pw_gid).gr_name
    root = Path(tempfile.mkdtemp(prefix="flowdesk-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    port = free_port()
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={mail} gid={group} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    if os.geteuid() == 0:
        for sub in ("mail", "home"):
            shutil.chown(root / sub, mail, group)
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        import socket

        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    if conn.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                out = proc.stdout.read().decode() if proc.stdout and proc.poll() is not None else ""
                raise AssertionError(f"dovecot did not start:\n{out}\n{log}")
            time.sleep(0.1)
        yield Imap("127.0.0.1", port, USER, PASSWORD)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)
