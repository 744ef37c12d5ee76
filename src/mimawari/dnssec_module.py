"""dnspython's DNSSEC module, imported here and only here, with cryptography's DSA deprecation silenced.

``dns.dnssec`` touches cryptography's DSA classes, which cryptography 46+ deprecates on access, so
importing it warns (and the tests, which turn warnings into errors, fail). mimawari never signs or
validates with DSA (RFC 8624 §3.1: MUST NOT). Importing it through this module keeps the warning from
every user's terminal, and keeps commands that need no DNSSEC (``dmarc parse``, ``gateway scan``) from
paying for the import.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from dns import dnssec

__all__ = ["dnssec"]
