"""Debian's Postfix and Dovecot, started on loopback for the tests that check mimawari against real servers.

Each server runs from its own temporary directory (configuration, queue, state, log) with a certificate
from the lab CA, on free ports of ``SERVER_ADDRESS``, and is stopped with every process it started. Nothing
is ever delivered: Postfix refuses to relay and discards what it accepts for its test domain. Issue 4 asks
for this once against the real software; ``skip_reason`` says why not where the packages cannot run.

Why 127.0.0.2: Dovecot takes a connection whose remote address equals its local address for one from the
same machine, hence secured, and would then offer cleartext login and hide ``LOGINDISABLED``. A loopback
client's source address is 127.0.0.1, so the servers listen on 127.0.0.2 and see their clients as remote.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from mimawari.lab.ca import LabCa

SERVER_ADDRESS = "127.0.0.2"
DOMAIN = "real.example"
MX_HOST = f"mx.{DOMAIN}"
MAILBOX_HOST = f"mail.{DOMAIN}"
LOCAL_USERS = ("postmaster", "alice")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
_POLL = 0.05
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
_DOVECOT_LIBEXEC = Path("/usr/lib/dovecot")
_INSTALL_HINT = "install postfix, dovecot-imapd and dovecot-pop3d (.ci/run does this as root with apt-get)"


class RealServerError(RuntimeError):
    """A real server did not start; the message ends with the last lines of its log."""


@dataclass(frozen=True)
class RealPostfix:
    """A running Postfix: an MX on ``smtp_port``, submission with required STARTTLS on
    ``submission_port`` (no AUTH: SASL is off) and implicit TLS on ``submissions_port`` (RFC 8314).
    ``master_pid`` leads the process group of all its processes."""

    host_name: str
    address: str
    smtp_port: int
    submission_port: int
    submissions_port: int
    ca_file: str
    version: str
    domain: str
    local_user: str
    log_file: str
    master_pid: int


@dataclass(frozen=True)
class RealDovecot:
    """A running Dovecot with IMAP (STARTTLS), IMAPS, POP3 (STLS) and POP3S, and one mailbox user.
    ``master_pid`` leads the process group of all its processes."""

    host_name: str
    address: str
    imap_port: int
    imaps_port: int
    pop3_port: int
    pop3s_port: int
    ca_file: str
    version: str
    user: str
    password: str
    log_file: str
    master_pid: int


def postfix_main_cf(
    directory: Path,
    *,
    host_name: str,
    domain: str,
    cert: Path,
    key: Path,
    extra: Mapping[str, str] | None = None,
) -> str:
    """main.cf of a test MX that never delivers: local mail is discarded, everything else refused."""
    settings = {
        "compatibility_level": "3.6",
        "queue_directory": f"{directory}/queue",
        "data_directory": f"{directory}/data",
        # postlogd writes the log; Postfix only logs under an allowed prefix.
        "maillog_file": f"{directory}/maillog",
        "maillog_file_prefixes": str(directory),
        "myhostname": host_name,
        "mydomain": domain,
        "myorigin": "$mydomain",
        "mydestination": "$mydomain, $myhostname",
        "inet_interfaces": "loopback-only",
        "inet_protocols": "ipv4",
        # Empty, so the tests (on loopback too) are outsiders: the default relay restrictions
        # (permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination) then refuse to relay.
        "mynetworks": "",
        # Unknown users are refused at RCPT time (no backscatter); texthash needs no postmap.
        "local_recipient_maps": f"texthash:{directory}/conf/recipients",
        "alias_maps": "",
        "alias_database": "",
        "local_transport": "discard:mail to the mimawari test instance is discarded",
        "default_transport": "error:the mimawari test instance never sends mail",
        "relay_transport": "error:the mimawari test instance never relays mail",
        "relayhost": "",
        "disable_vrfy_command": "yes",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_chain_files": f"{key}, {cert}",
        "smtpd_tls_loglevel": "1",
        # No reverse look-up of 127.0.0.1: it could leave the machine through the system resolver.
        "smtpd_peername_lookup": "no",
        "biff": "no",
        **(extra or {}),
    }
    return "".join(f"{name} = {value}\n" for name, value in settings.items())


_POSTFIX_DAEMONS = (
    # name, type, private, unprivileged, chroot, wakeup, limit, command. No chroot: a chroot needs copies
    # of /etc files in the queue directory, which Debian's init script (not used here) would make.
    "pickup unix n - n 60 1 pickup",
    "cleanup unix n - n - 0 cleanup",
    "qmgr unix n - n 300 1 qmgr",
    "tlsmgr unix - - n 1000? 1 tlsmgr",
    "rewrite unix - - n - - trivial-rewrite",
    "bounce unix - - n - 0 bounce",
    "defer unix - - n - 0 bounce",
    "trace unix - - n - 0 bounce",
    "verify unix - - n - 1 verify",
    "flush unix n - n 1000? 0 flush",
    "proxymap unix - - n - - proxymap",
    "showq unix n - n - - showq",
    "error unix - - n - - error",
    "retry unix - - n - - error",
    "discard unix - - n - - discard",
    "anvil unix - - n - 1 anvil",
    "scache unix - - n - 1 scache",
    "postlog unix-dgram n - n - 1 postlogd",
)


def postfix_master_cf(address: str, ports: dict[str, int], services: Sequence[str] = ()) -> str:
    """master.cf: smtpd on the MX port, submission (STARTTLS required) and submissions (implicit TLS),
    then ``services`` (master.cf entries a test adds: an SMTP client, another listener)."""
    listeners = [
        f"{address}:{ports['smtp']} inet n - n - - smtpd",
        f"{address}:{ports['submission']} inet n - n - - smtpd\n"
        "  -o syslog_name=postfix/submission\n  -o smtpd_tls_security_level=encrypt",
        f"{address}:{ports['submissions']} inet n - n - - smtpd\n"
        "  -o syslog_name=postfix/submissions\n  -o smtpd_tls_wrappermode=yes",
    ]
    return "\n".join([*listeners, *_POSTFIX_DAEMONS, *services]) + "\n"


def _dovecot_is_24(version: str) -> bool:
    major, minor = (int(part) for part in version.split(".")[:2])
    return (major, minor) >= (2, 4)


def dovecot_config(
    directory: Path,
    *,
    version: str,
    address: str,
    ports: dict[str, int],
    cert: Path,
    key: Path,
    users: Path,
    mail_uid: int,
) -> str:
    """dovecot.conf in the syntax of the installed version (2.4 renamed and restructured many settings)."""
    if _dovecot_is_24(version):
        head = ["dovecot_config_version = 2.4.0", "dovecot_storage_version = 2.4.0"]
        tls = [f"ssl_server_cert_file = {cert}", f"ssl_server_key_file = {key}", "auth_allow_cleartext = no"]
        mail = ["mail_driver = maildir", "mail_path = ~/Maildir"]
        databases = [f"{db} passwd-file {{\n  passwd_file_path = {users}\n}}" for db in ("passdb", "userdb")]
    else:
        head = []
        tls = [f"ssl_cert = <{cert}", f"ssl_key = <{key}", "disable_plaintext_auth = yes"]
        mail = ["mail_location = maildir:~/Maildir"]
        databases = [f"{db} {{\n  driver = passwd-file\n  args = {users}\n}}" for db in ("passdb", "userdb")]
    services = []
    for protocol in ("imap", "pop3"):
        plain, implicit = ports[protocol], ports[f"{protocol}s"]
        services.append(
            f"service {protocol}-login {{\n"
            f"  inet_listener {protocol} {{\n    port = {plain}\n  }}\n"
            f"  inet_listener {protocol}s {{\n    port = {implicit}\n    ssl = yes\n  }}\n}}"
        )
    lines = [
        *head,
        f"base_dir = {directory}/run",
        f"state_dir = {directory}/state",
        "instance_name = mimawari-test",
        f"log_path = {directory}/dovecot.log",
        "protocols = imap pop3",
        f"listen = {address}",
        "ssl = yes",
        *tls,
        "auth_mechanisms = plain login",
        f"first_valid_uid = {mail_uid}",
        f"last_valid_uid = {mail_uid}",
        *mail,
        *databases,
        *services,
    ]
    return "\n".join(lines) + "\n"


def _binary(name: str) -> str | None:
    return shutil.which(name, path=_SEARCH_PATH)


def _missing_accounts(users: tuple[str, ...], groups: tuple[str, ...] = ()) -> list[str]:
    missing = []
    for kind, names, lookup in (("user", users, pwd.getpwnam), ("group", groups, grp.getgrnam)):
        for name in names:
            try:
                lookup(name)
            except KeyError:
                missing.append(f"{kind} {name}")
    return missing


def _host_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return "real Postfix and Dovecot tests need Linux with Debian's packages"
    if os.geteuid() != 0:
        return "real Postfix and Dovecot start as root and drop to their own users: run the tests as root"
    try:
        with socket.socket() as probe:
            probe.bind((SERVER_ADDRESS, 0))
    except OSError as error:
        return f"cannot listen on {SERVER_ADDRESS} ({error.strerror}): the servers need 127.0.0.0/8 on lo"
    return None


def postfix_skip_reason() -> str | None:
    """Why a real Postfix cannot run here, or None when it can."""
    if reason := _host_reason():
        return reason
    for program in ("postfix", "postconf"):
        if _binary(program) is None:
            return f"Postfix is not installed ({program} not found): {_INSTALL_HINT}"
    if missing := _missing_accounts(("postfix",), ("postdrop",)):
        return f"the Postfix package's accounts are missing ({', '.join(missing)}): reinstall postfix"
    return None


def dovecot_skip_reason() -> str | None:
    """Why a real Dovecot cannot run here, or None when it can."""
    if reason := _host_reason():
        return reason
    if _binary("dovecot") is None:
        return f"Dovecot is not installed (dovecot not found): {_INSTALL_HINT}"
    for login in ("imap-login", "pop3-login"):
        if not (_DOVECOT_LIBEXEC / login).exists():
            return f"Dovecot's {login} is not installed: {_INSTALL_HINT}"
    if missing := _missing_accounts(("dovecot", "dovenull", "nobody")):
        return f"Dovecot's accounts are missing ({', '.join(missing)}): reinstall dovecot-core"
    return None


def skip_reason() -> str | None:
    """Why the real Postfix and Dovecot cannot both run here, or None when they can."""
    return postfix_skip_reason() or dovecot_skip_reason()


def _environment() -> dict[str, str]:
    return {**os.environ, "PATH": _SEARCH_PATH}


def _run(*command: str) -> str:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, env=_environment()
    )
    if done.returncode != 0:
        raise RealServerError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def postfix_version() -> str:
    """``mail_version`` of the installed Postfix, e.g. ``3.7.11``."""
    return _run("postconf", "-d", "-h", "mail_version").strip()


def dovecot_version() -> str:
    """The installed Dovecot's version without its build id, e.g. ``2.3.19.1``."""
    return _run("dovecot", "--version").split()[0]


def _free_ports(count: int) -> list[int]:
    """Ports the kernel calls free on ``SERVER_ADDRESS``, all held at once so that they differ."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((SERVER_ADDRESS, 0))
        return [sock.getsockname()[1] for sock in sockets]


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.write_text(text, encoding="ascii")
    path.chmod(mode)
    # Postfix rereads a file changed within the last second until it is "cold" (dict_load_file,
    # mail_conf_read): every postconf run by `postfix start` would wait, 2 s in all. Backdate it.
    past = time.time() - 60
    os.utime(path, (past, past))


def _log_tail(*paths: Path, lines: int = 15) -> str:
    tails = []
    for path in paths:
        with contextlib.suppress(OSError):
            if text := path.read_text(encoding="utf-8", errors="replace").strip():
                tails.append(f"--- {path.name}:\n" + "\n".join(text.splitlines()[-lines:]))
    return "\n".join(tails) or "(the logs are empty)"


def _wait_until_ready(
    name: str, greetings: dict[int, bytes], alive: Callable[[], bool], logs: tuple[Path, ...]
) -> None:
    """Connect until every port greets with its protocol's opening, within ``START_TIMEOUT``."""
    deadline = time.monotonic() + START_TIMEOUT
    pending, last = dict(greetings), "not tried"
    while pending:
        port, expected = next(iter(pending.items()))
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not alive():
            why = f"was not ready within {START_TIMEOUT:.0f} s" if alive() else "exited"
            raise RealServerError(f"{name} {why} (port {port}: {last})\n{_log_tail(*logs)}")
        try:
            with socket.create_connection((SERVER_ADDRESS, port), timeout=min(remaining, 5.0)) as sock:
                reply = sock.recv(512)
        except OSError as error:
            last = str(error)
        else:
            if reply.startswith(expected):
                del pending[port]
                continue
            last = f"greeting {reply[:80]!r}"
        time.sleep(_POLL)  # only after a failed attempt: the master may still be binding its listeners


def group_members(group: int) -> list[int]:
    """Live (not zombie) processes in process group ``group``."""
    members = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[-1].split()
            if fields[0] != "Z" and int(fields[2]) == group:
                members.append(int(entry.name))
    return members


def _end_group(group: int) -> None:
    """Make sure nothing of a stopped server's process group survives."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while group_members(group):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            return
        time.sleep(_POLL)


def _server_directory(prefix: str) -> Path:
    # Not 0700 as mkdtemp makes it: the servers' unprivileged processes must reach their files below it.
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    directory.chmod(0o755)
    return directory


def _install_leaf(ca: LabCa, host: str, directory: Path) -> tuple[Path, Path]:
    leaf = ca.issue(host)
    cert, key = directory / "cert.pem", directory / "key.pem"
    _write(cert, Path(leaf.cert_file).read_text(encoding="ascii"))
    _write(key, Path(leaf.key_file).read_text(encoding="ascii"), mode=0o600)  # read as root, at start
    return cert, key


@contextlib.contextmanager
def running_postfix(
    ca: LabCa,
    host_name: str = MX_HOST,
    extra: Mapping[str, str] | None = None,
    services: Sequence[str] = (),
) -> Iterator[RealPostfix]:
    """Start Postfix (``postfix -c DIR start``) with its own configuration (``extra`` main.cf settings
    on top, ``services`` added to master.cf); stop it on exit."""
    directory = _server_directory("mimawari-postfix-")
    config, log, pid_file = directory / "conf", directory / "maillog", directory / "queue/pid/master.pid"
    smtp, submission, submissions = _free_ports(3)
    try:
        config.mkdir(mode=0o755)
        (directory / "queue").mkdir(mode=0o755)  # `postfix start` makes its subdirectories, with owners
        cert, key = _install_leaf(ca, host_name, directory)
        _write(config / "recipients", "".join(f"{user} ok\n" for user in LOCAL_USERS))
        _write(
            config / "main.cf",
            postfix_main_cf(directory, host_name=host_name, domain=DOMAIN, cert=cert, key=key, extra=extra),
        )
        ports = {"smtp": smtp, "submission": submission, "submissions": submissions}
        _write(config / "master.cf", postfix_master_cf(SERVER_ADDRESS, ports, services))
        try:
            _run("postfix", "-c", str(config), "start")
        except (RealServerError, subprocess.TimeoutExpired) as error:
            raise RealServerError(f"{error}\n{_log_tail(log)}") from None
        master = int(pid_file.read_text(encoding="ascii"))
        _wait_until_ready(
            "Postfix", {smtp: b"220 ", submission: b"220 "}, lambda: master in group_members(master), (log,)
        )
        yield RealPostfix(
            host_name=host_name,
            address=SERVER_ADDRESS,
            smtp_port=smtp,
            submission_port=submission,
            submissions_port=submissions,
            ca_file=ca.ca_file,
            version=postfix_version(),
            domain=DOMAIN,
            local_user=LOCAL_USERS[0],
            log_file=str(log),
            master_pid=master,
        )
    finally:
        with contextlib.suppress(OSError, ValueError):
            master = int(pid_file.read_text(encoding="ascii"))
            # `postfix stop` waits up to 5 s for the master, then kills its process group (the master
            # calls setsid); _end_group covers children that outlive it.
            with contextlib.suppress(RealServerError, subprocess.TimeoutExpired):
                _run("postfix", "-c", str(config), "stop")
            _end_group(master)
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def running_dovecot(ca: LabCa, host_name: str = MAILBOX_HOST) -> Iterator[RealDovecot]:
    """Start Dovecot in the foreground (``dovecot -F -c FILE``) with its own configuration; stop it on exit."""
    directory = _server_directory("mimawari-dovecot-")
    log, output = directory / "dovecot.log", directory / "output"
    imap, imaps, pop3, pop3s = _free_ports(4)
    user, password, version = LOCAL_USERS[1], secrets.token_urlsafe(12), dovecot_version()
    process: subprocess.Popen[bytes] | None = None
    try:
        cert, key = _install_leaf(ca, host_name, directory)
        # Mail runs as nobody with a home in the directory: no system user is needed.
        nobody = pwd.getpwnam("nobody")
        home = directory / "home" / user
        home.mkdir(parents=True)
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        users = directory / "users"  # passwd-file: user:password:uid:gid:gecos:home:shell
        _write(users, f"{user}:{{PLAIN}}{password}:{nobody.pw_uid}:{nobody.pw_gid}::{home}::\n")
        ports = {"imap": imap, "imaps": imaps, "pop3": pop3, "pop3s": pop3s}
        text = dovecot_config(
            directory,
            version=version,
            address=SERVER_ADDRESS,
            ports=ports,
            cert=cert,
            key=key,
            users=users,
            mail_uid=nobody.pw_uid,
        )
        _write(directory / "dovecot.conf", text)
        with output.open("wb") as sink:
            # Own session and process group, so that stopping can find every process it started.
            process = subprocess.Popen(
                [_binary("dovecot") or "dovecot", "-F", "-c", str(directory / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
                env=_environment(),
            )
        started = process
        _wait_until_ready(
            "Dovecot", {imap: b"* OK", pop3: b"+OK"}, lambda: started.poll() is None, (log, output)
        )
        yield RealDovecot(
            host_name=host_name,
            address=SERVER_ADDRESS,
            imap_port=imap,
            imaps_port=imaps,
            pop3_port=pop3,
            pop3s_port=pop3s,
            ca_file=ca.ca_file,
            version=version,
            user=user,
            password=password,
            log_file=str(log),
            master_pid=process.pid,
        )
    finally:
        if process is not None:
            process.terminate()  # the master stops its children, then exits (after about 1 s)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            _end_group(process.pid)
        shutil.rmtree(directory, ignore_errors=True)


def postfix_fixture(ca: LabCa, extra: Mapping[str, str] | None = None) -> Iterator[RealPostfix]:
    """A pytest fixture's body (``yield from postfix_fixture(ca)``): skips, with the reason, where it cannot run."""
    if reason := postfix_skip_reason():
        pytest.skip(reason)
    with running_postfix(ca, extra=extra) as server:
        yield server


def dovecot_fixture(ca: LabCa) -> Iterator[RealDovecot]:
    """A pytest fixture's body (``yield from dovecot_fixture(ca)``): skips, with the reason, where it cannot run."""
    if reason := dovecot_skip_reason():
        pytest.skip(reason)
    with running_dovecot(ca) as server:
        yield server
