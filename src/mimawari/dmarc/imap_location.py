"""Where the DMARC report e-mails are: an IMAP URL (``imaps://user@host[:port]/Folder``), the password from
the environment, and folder names as IMAP spells them (modified UTF-7, RFC 3501 section 5.1.3).

Transport security is not optional: ``imaps://`` is implicit TLS (RFC 8314), ``imap://`` means STARTTLS,
which ``ImapSource`` requires. The password never comes from the URL: it would end up in shell histories
and process lists.
"""

from __future__ import annotations

import base64
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from mimawari.errors import InputError

PASSWORD_ENV = "MIMAWARI_IMAP_PASSWORD"
DEFAULT_PORTS: dict[str, int] = {"imaps": 993, "starttls": 143}
_TLS_OF_SCHEME: dict[str, Literal["imaps", "starttls"]] = {"imaps": "imaps", "imap": "starttls"}
_URL_FORM = "imaps://user@host[:port]/Folder"


@dataclass(frozen=True)
class ImapLocation:
    """Where the reports are: ``imaps://user@host:993/INBOX.DMARC``. ``folder`` is the folder's full name
    as the server spells it, with the server's hierarchy separator."""

    host: str
    port: int
    user: str
    folder: str = "INBOX"
    tls: Literal["imaps", "starttls"] = "imaps"

    @classmethod
    def parse(cls, url: str) -> ImapLocation:
        """``imaps://`` (implicit TLS, port 993) or ``imap://`` (STARTTLS required, port 143); user and
        folder percent-decoded; no folder means INBOX. ``InputError`` for anything else."""
        try:
            parts = urllib.parse.urlsplit(url.strip())
        except ValueError as error:  # an unclosed "[" of an IPv6 address
            raise InputError(f"not an IMAP URL ({error}): write {_URL_FORM}") from None
        tls = _TLS_OF_SCHEME.get(parts.scheme.lower())
        if tls is None:
            raise InputError(f"not an IMAP URL (scheme {parts.scheme or 'missing'!r}): write {_URL_FORM}")
        # Checked before anything that quotes the URL back: the message must never carry the password.
        if parts.password is not None:
            raise InputError(f"the IMAP URL must not hold a password: put it in {PASSWORD_ENV}")
        if parts.query or parts.fragment:
            raise InputError(f"the IMAP URL has a query or fragment mimawari does not use: write {_URL_FORM}")
        try:
            port = DEFAULT_PORTS[tls] if parts.port is None else parts.port
            user = urllib.parse.unquote(parts.username or "", errors="strict")
            folder = urllib.parse.unquote(parts.path.strip("/"), errors="strict") or "INBOX"
        except ValueError:  # UnicodeDecodeError too: percent-escapes that are not UTF-8
            raise InputError(f"the IMAP URL's port, user or folder is malformed: write {_URL_FORM}") from None
        if not 0 < port < 65536:
            raise InputError(f"the IMAP URL's port {port} is not from 1 to 65535")
        host = parts.hostname or ""
        if not host:
            raise InputError(f"the IMAP URL names no host: write {_URL_FORM}")
        if not user:
            raise InputError(f"the IMAP URL names no user: write {_URL_FORM}")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InputError(f"the IMAP URL's host {host!r} is not a valid host name") from None
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in user + folder):
            raise InputError("the IMAP URL's user or folder holds control characters")
        return cls(host=host, port=port, user=user, folder=folder, tls=tls)

    @property
    def url(self) -> str:
        """The location as a URL, for messages (it never holds a password)."""
        scheme = "imaps" if self.tls == "imaps" else "imap"
        host = f"[{self.host}]" if ":" in self.host else self.host
        user, folder = urllib.parse.quote(self.user, safe=""), urllib.parse.quote(self.folder, safe="/")
        return f"{scheme}://{user}@{host}:{self.port}/{folder}"


def password_from_environment(location: ImapLocation, environ: Mapping[str, str] | None = None) -> str:
    """The IMAP password from ``PASSWORD_ENV``; ``InputError`` when it is unset or empty."""
    password = (os.environ if environ is None else environ).get(PASSWORD_ENV, "")
    if not password:
        raise InputError(f"set {PASSWORD_ENV} to the password of {location.user} on {location.host}")
    return password


def encode_folder_name(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 section 5.1.3): ``日本語`` → ``&ZeVnLIqe-``."""
    encoded: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            encoded.append("&" + raw.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(encoded)


def decode_folder_name(name: str) -> str:
    """The reverse of ``encode_folder_name``; a malformed name is returned as it is."""

    def decode(match: re.Match[str]) -> str:
        if not match[1]:
            return "&"
        raw = match[1].replace(",", "/")
        return base64.b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-16-be")

    try:
        return re.sub(r"&([A-Za-z0-9+,]*)-", decode, name)
    except (ValueError, UnicodeError):
        return name


def quoted_folder_name(name: str) -> str:
    """A folder name as an RFC 3501 quoted string, ready for a command line (imaplib quotes nothing)."""
    escaped = encode_folder_name(name).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
