"""Run checkdmarc on the benchmark's lab, the way its command line does, with a nameserver port.

Run by the peer venv's Python (``bench/.venv-checkdmarc``), not the project's: it imports only
checkdmarc, dnspython and the standard library. checkdmarc's ``--nameserver`` takes bare IP addresses
(port 53), but its API passes ``dns.nameserver.Nameserver`` objects through to dnspython, so a
``Do53Nameserver`` carries the lab's port. Three changes to the process, none to checkdmarc's work:

- every ``Do53Nameserver.query`` is counted, to report the DNS queries checkdmarc sent;
- ``socket.getaddrinfo`` (used by ``requests`` for the MTA-STS policy and BIMI fetches) resolves through
  the lab too, so checkdmarc never asks the machine's resolver;
- connections outside loopback are refused: the benchmark never sends traffic off the machine.

Output: the JSON that ``checkdmarc -f json`` prints, to ``--output``; one summary line on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import socket
import sys
from collections import Counter
from typing import Any

import checkdmarc  # type: ignore[import-not-found,unused-ignore]
import dns.exception
import dns.nameserver
import dns.resolver

sent: Counter[str] = Counter()


def _count_queries() -> None:
    original = dns.nameserver.Do53Nameserver.query

    def query(self: dns.nameserver.Do53Nameserver, *args: Any, **kwargs: Any) -> Any:
        sent["queries"] += 1
        return original(self, *args, **kwargs)

    dns.nameserver.Do53Nameserver.query = query  # type: ignore[method-assign]


def _is_loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _resolve_through(lab: dns.nameserver.Do53Nameserver) -> None:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [lab]
    resolver.lifetime = 2.0
    original_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(name)
        except ValueError:
            addresses = []
            for rdtype in ("A", "AAAA"):
                with contextlib.suppress(dns.exception.DNSException):
                    addresses += [r.to_text() for r in resolver.resolve(name, rdtype)]
            if not addresses:
                raise socket.gaierror(socket.EAI_NONAME, f"{name}: not found in the lab") from None
            name = addresses[0]
        if not _is_loopback(name):
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: the benchmark stays on loopback")
        return original_getaddrinfo(name, port, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo

    original_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"the benchmark stays on loopback, not {address[0]}")
        return original_connect(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nameserver", required=True, help="the lab, HOST:PORT")
    parser.add_argument("--domains", required=True, help="file with one domain a line")
    parser.add_argument("--output", required=True, help="where to write checkdmarc's JSON")
    parser.add_argument("--timeout", type=float, default=2.0, help="DNS timeout, as checkdmarc's -t")
    args = parser.parse_args()
    host, _, port = args.nameserver.rpartition(":")
    if not _is_loopback(host.strip("[]")):
        print(f"checkdmarc_peer: {host} is not a loopback address", file=sys.stderr)
        return 2
    lab = dns.nameserver.Do53Nameserver(host.strip("[]"), int(port))
    _count_queries()
    _resolve_through(lab)
    with open(args.domains, encoding="utf-8") as handle:
        domains = [line.strip() for line in handle if line.strip()]
    # The same defaults as `checkdmarc DOMAIN... -f json`: BIMI selector "default", no MX TLS probes.
    results = checkdmarc.check_domains(domains, nameservers=[lab], timeout=args.timeout)
    results = results if isinstance(results, list) else [results]
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(checkdmarc.results_to_json(results))
    print(
        json.dumps({"domains": len(results), "queries": sent["queries"], "version": checkdmarc.__version__})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
