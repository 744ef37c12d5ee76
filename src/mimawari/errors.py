"""Exceptions raised by mimawari's library API.

Observation failures (timeouts, SERVFAIL, refused connections) are *values* in observations, never
exceptions. Exceptions are for what stops a whole operation: bad input or an unusable set-up.

    MimawariError
    ├── InputError               the user gave something unusable (exit code 2)
    │   ├── InvalidDomainError   not a syntactically valid domain name
    │   ├── InvalidNameserverError
    │   └── ZoneError            a lab zone (YAML or zone file) that cannot be loaded
    └── OperationalError         the set-up cannot work right now (exit code 3)
        ├── NameserverUnreachableError
        ├── LabError             a lab server could not start
        └── StoreError           the database cannot be used
"""

from __future__ import annotations


class MimawariError(Exception):
    """Base of every error mimawari raises on purpose; its message is one line for the user."""

    exit_code = 1


class InputError(MimawariError):
    exit_code = 2


class InvalidDomainError(InputError):
    pass


class InvalidNameserverError(InputError):
    pass


class ZoneError(InputError):
    pass


class OperationalError(MimawariError):
    exit_code = 3


class NameserverUnreachableError(OperationalError):
    pass


class LabError(OperationalError):
    pass


class StoreError(OperationalError):
    """The database cannot be used: a malformed URL, a server that does not answer, an unwritable file,
    a schema newer than this version of mimawari."""
