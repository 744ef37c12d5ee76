"""N lab domains with the mail DNS records real domains have, good and broken, for the benchmark.

Everything is derived from one seed, the DKIM keys included, so a seed always gives the same YAML.
Addresses are documentation prefixes (RFC 5737, RFC 3849) except where a record *means* a private
address; no host a scanner might connect to (``mta-sts.``, BIMI logo hosts) has an address at all, so a
benchmark never opens a connection anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from math import lcm
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

Records = dict[str, dict[str, list[str]]]

PREFIXES = ("192.0.2", "198.51.100", "203.0.113")
SELECTORS = ("selector1", "selector2", "google", "default", "k1", "s1", "s2", "mail", "dkim", "smtpapi")
WORDS = ("sakura", "kawa", "yama", "hoshi", "umi", "mori", "tsuki", "kaze", "hana", "yuki", "sora", "ishi")
TRADES = ("trading", "foods", "logistics", "bank", "clinic", "labs", "works", "design", "shop", "travel")

# Providers many domains share, as in the real world: one ESP's include serves thousands of domains.
SHARED_ZONES: dict[str, Records] = {
    "esp-mail.example": {
        "_spf": {"TXT": ["v=spf1 ip4:198.51.100.0/25 include:_spf2.esp-mail.example ~all"]},
        "_spf2": {"TXT": ["v=spf1 ip4:203.0.113.0/26 ip6:2001:db8:e5e::/48 -all"]},
        "nospf": {"A": ["203.0.113.9"]},
        "mx1": {"A": ["203.0.113.10"]},
        "mx2": {"A": ["203.0.113.11"]},
    },
    "bigmail.example": {
        "_spf": {
            "TXT": [
                "v=spf1 include:_netblocks.bigmail.example include:_netblocks2.bigmail.example"
                " include:_netblocks3.bigmail.example ~all"
            ]
        },
        "_netblocks": {"TXT": ["v=spf1 ip4:203.0.113.64/27 ip4:203.0.113.96/28 ~all"]},
        "_netblocks2": {"TXT": ["v=spf1 ip6:2001:db8:b16::/48 ~all"]},
        "_netblocks3": {"TXT": ["v=spf1 ip4:198.51.100.128/26 ~all"]},
        "aspmx": {"A": ["203.0.113.20"], "AAAA": ["2001:db8:b16::25"]},
        "alt1.aspmx": {"A": ["203.0.113.21"]},
    },
    "crm-send.example": {"spf": {"TXT": ["v=spf1 ip4:203.0.113.128/27 -all"]}},
    "helpdesk.example": {"spf": {"TXT": ["v=spf1 include:spf.crm-send.example ip4:203.0.113.160/28 -all"]}},
    "survey-mail.example": {
        "@": {"A": ["203.0.113.170"], "MX": ["10 mx.survey-mail.example."]},
        "mx": {"A": ["203.0.113.171"]},
        "spf": {"TXT": ["v=spf1 a:survey-mail.example mx:survey-mail.example -all"]},
    },
    # A report destination that authorises every domain (RFC 7489 §7.1), and one that authorises none.
    "dmarc-reports.example": {"*._report._dmarc": {"TXT": ["v=DMARC1"]}, "@": {"A": ["198.51.100.200"]}},
    "reports-unauth.example": {"@": {"A": ["198.51.100.201"]}},
    "dns-host.example": {"ns1": {"A": ["203.0.113.53"]}, "ns2": {"A": ["198.51.100.53"]}},
    # The parents, so that names no zone below holds are NXDOMAIN, not REFUSED: the RFC 9989 DMARC tree
    # walk asks _dmarc.example, and private or unassigned addresses have no PTR.
    "example": {},  # signed (SHARED_SIGNING): the lab's trust anchor
    "in-addr.arpa": {},
    "ip6.arpa": {},
}

# Zones signed whatever the seed: the top zone `example`, whose DS is the lab's trust anchor (every domain
# below is then a provably secure or insecure delegation, RFC 4035 §4.3), and the ESP, whose MX hosts
# many domains share; the big provider stays unsigned, as the biggest ones are.
SHARED_SIGNING: dict[str, dict[str, Any]] = {"example": {}, "esp-mail.example": {}}

# How the domains are signed (the lab's ``dnssec:`` option), weights in %: most unsigned domains are an
# insecure delegation; the signed ones mostly ECDSAP256SHA256, some RSA, a few broken in the ways real
# zones break (a bad signature, signatures left to expire, a DS for an old key, a deprecated algorithm).
DNSSEC_KINDS: dict[str, tuple[float, dict[str, Any]]] = {
    "unsigned": (40, {}),
    "signed": (48, {}),
    "rsasha256": (3, {"algorithm": "RSASHA256"}),
    "ed25519": (1, {"algorithm": "ED25519"}),
    "rsasha1": (1, {"algorithm": "RSASHA1"}),
    "no_ds": (1, {"ds": "none"}),  # signed, but the DS never reached the registry: insecure
    "sha1_ds": (1, {"ds_digest": "SHA1"}),
    "broken": (2, {"broken": ["@"]}),
    "expired": (1.5, {"expired": True}),
    "ds_mismatch": (1.5, {"ds": "mismatch"}),
}

ESP_INCLUDES = (
    "include:_spf.bigmail.example",
    "include:_spf.esp-mail.example",
    "include:spf.crm-send.example",
    "include:spf.helpdesk.example",
    "include:spf.survey-mail.example",
)


@dataclass
class LabDomain:
    """One generated domain: its zone records and what was published, for sanity checks."""

    name: str
    records: Records = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=dict)
    spf: list[str] = field(default_factory=list)
    dmarc: list[str] = field(default_factory=list)
    behaviour: dict[str, str] = field(default_factory=dict)
    dnssec: dict[str, Any] | None = None
    """The zone's ``dnssec:`` option, None when unsigned."""

    def add(self, owner: str, rdtype: str, value: str) -> None:
        self.records.setdefault(owner, {}).setdefault(rdtype, []).append(value)


@dataclass(frozen=True)
class LabDomains:
    domains: tuple[LabDomain, ...]
    zones: dict[str, Records]
    behaviour: dict[str, str]
    signing: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The ``dnssec:`` option of each signed zone, by origin."""

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.domains]

    def to_yaml(self) -> str:
        document: dict[str, Any] = {
            "zones": {
                origin: {"records": records}
                | ({"dnssec": self.signing[origin]} if origin in self.signing else {})
                for origin, records in self.zones.items()
            },
            "behaviour": self.behaviour,
        }
        return yaml.safe_dump(document, sort_keys=False, width=10_000, allow_unicode=True)


# --- DKIM keys: a handful, derived from the seed, shared by all domains -------------------------------


def _probable_prime(n: int, rng: random.Random) -> bool:
    for p in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(24):  # Miller-Rabin
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _rsa_public_key(bits: int, rng: random.Random) -> str:
    """A real RSA key (``cryptography`` checks it) from seeded primes; base64 SubjectPublicKeyInfo."""
    e = 65537

    def prime() -> int:
        while True:
            candidate = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
            if (candidate - 1) % e and _probable_prime(candidate, rng):
                return candidate

    p, q = prime(), prime()
    d = pow(e, -1, lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, p * q),
    )  # fmt: skip
    der = (
        numbers.private_key()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


@lru_cache(maxsize=4)
def _seeded_keys(seed: int) -> dict[str, str]:
    return dkim_keys(random.Random(seed))


def dkim_keys(rng: random.Random) -> dict[str, str]:
    """DKIM key records by kind (RFC 6376 §3.6.1; Ed25519 per RFC 8463 §4: the raw 32-byte key)."""
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)).public_key()
    raw = ed.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    rsa512, rsa1024, rsa2048 = (_rsa_public_key(bits, rng) for bits in (512, 1024, 2048))
    return {
        "rsa2048": f"v=DKIM1; k=rsa; p={rsa2048}",
        "rsa1024": f"v=DKIM1; k=rsa; p={rsa1024}",
        "rsa512": f"v=DKIM1; k=rsa; p={rsa512}",
        "ed25519": f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}",
        "testing": f"v=DKIM1; k=rsa; t=y; p={rsa2048}",
        "sha1": f"v=DKIM1; k=rsa; h=sha1; p={rsa1024}",
        "revoked": "v=DKIM1; k=rsa; p=",
        "broken": "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ#not-base64",
    }


# --- one domain's records, family by family ------------------------------------------------------------


class _Addresses:
    """Hands out documentation addresses in turn. Mail hosts come from their own pool, and the reverse
    zones name the first mail host given each address, so FCrDNS holds until the pool wraps around."""

    def __init__(self) -> None:
        self.counts = {"mail": 0, "other": 0}
        self.ptr: dict[str, str] = {}

    def _next(self, pool: str) -> str:
        count = self.counts[pool]
        self.counts[pool] += 1
        first, size = (1, 125) if pool == "mail" else (130, 120)
        return f"{PREFIXES[count % 3]}.{first + (count // 3) % size}"

    def mail(self, host: str) -> str:
        address = self._next("mail")
        self.ptr.setdefault(address, host)
        return address

    def other(self) -> str:
        return self._next("other")


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _mx(d: LabDomain, rng: random.Random, addr: _Addresses, dane: random.Random) -> None:
    kind = _pick(
        rng,
        {"own": 45, "esp": 18, "bigmail": 12, "null": 5, "cname": 4, "unresolvable": 4, "literal": 2,
         "private": 2, "duplicate": 3, "none": 5},
    )  # fmt: skip
    d.profile["mx"] = kind
    host = f"{d.name}."
    if kind in ("own", "duplicate"):
        d.add("@", "MX", f"10 mx1.{host}")
        d.add("@", "MX", f"20 {'mx1' if kind == 'duplicate' else 'mx2'}.{host}")
        for label in ("mx1",) if kind == "duplicate" else ("mx1", "mx2"):
            d.add(label, "A", addr.mail(f"{label}.{d.name}"))
        # DANE: usage 3 (DANE-EE) is usable for SMTP (RFC 7672 §3.1), usage 0 is not
        _tlsa(d, rng.choice(("3 1 1", "3 1 1", "2 0 1", "0 0 1")) if rng.random() < 0.1 else None, dane)
    elif kind == "esp":
        d.add("@", "MX", "10 mx1.esp-mail.example.")
        d.add("@", "MX", "10 mx2.esp-mail.example.")
    elif kind == "bigmail":
        d.add("@", "MX", "1 aspmx.bigmail.example.")
        d.add("@", "MX", "5 alt1.aspmx.bigmail.example.")
    elif kind == "null":  # RFC 7505: a domain that receives no mail
        d.add("@", "MX", "0 .")
    elif kind == "cname":  # RFC 5321 §5.1: an MX name must not be an alias
        d.add("@", "MX", f"10 mail.{host}")
        d.add("mail", "CNAME", "mx1.esp-mail.example.")
    elif kind == "unresolvable":
        d.add("@", "MX", f"10 mx.{host}")
    elif kind == "literal":
        d.add("@", "MX", f"10 {addr.other()}.")
    elif kind == "private":
        d.add("@", "MX", f"10 mx1.{host}")
        d.add("mx1", "A", f"10.{rng.randrange(256)}.{rng.randrange(256)}.25")
    if kind == "none" or rng.random() < 0.5:
        d.add("@", "A", addr.other())


def _tlsa(d: LabDomain, usage: str | None, dane: random.Random) -> None:
    """TLSA for mx1 count only in a signed zone (RFC 7672 §2.2), so most are there (DANE-EE when the
    main generator gave none); a few unsigned zones publish them anyway, to be ignored."""
    if d.dnssec is not None and (usage is not None or dane.random() < 0.3):
        usage = usage or "3 1 1"
    elif usage is not None and dane.random() > 0.25:
        usage = None
    if usage is not None:
        d.add("_25._tcp.mx1", "TLSA", f"{usage} {hashlib.sha256(d.name.encode()).hexdigest()}")


def _spf(d: LabDomain, rng: random.Random, addr: _Addresses) -> None:
    if d.profile["mx"] == "null":
        kind = "deny_all"
    else:
        kind = _pick(
            rng,
            {"esp": 18, "bigmail": 15, "multi": 12, "too_many": 6, "plus_all": 3, "neutral": 4, "void": 4,
             "missing": 12, "multiple": 3, "syntax": 3, "ptr": 3, "redirect": 5, "loop": 2, "long": 3,
             "include_no_spf": 3, "own": 8},
        )  # fmt: skip
    d.profile["spf"] = kind
    own = f"ip4:{addr.other()}"
    records = {
        "deny_all": ["v=spf1 -all"],
        "esp": ["v=spf1 mx include:_spf.esp-mail.example -all"],
        "bigmail": ["v=spf1 include:_spf.bigmail.example ~all"],
        "multi": [f"v=spf1 {own} include:_spf.bigmail.example include:_spf.esp-mail.example ~all"],
        # 2 + 4 + 2 + 1 + 2 + 3 = 14 DNS-querying terms (RFC 7208 §4.6.4 allows 10)
        "too_many": [f"v=spf1 a mx {' '.join(ESP_INCLUDES)} -all"],
        "plus_all": ["v=spf1 +all"],
        "neutral": ["v=spf1 mx ?all"],
        # three lookups that find nothing (RFC 7208 §4.6.4 allows two)
        "void": [f"v=spf1 include:_spf.gone.esp-mail.example a:old-mail.{d.name} mx:legacy.{d.name} -all"],
        "multiple": ["v=spf1 mx -all", "v=spf1 include:_spf.esp-mail.example ~all"],
        "syntax": [rng.choice(("v=spf1 ip4:192.0.2.300 -all", "v=spf1 include: mx -all", "v=spf1 mx -al"))],
        "ptr": ["v=spf1 ptr mx -all"],
        "redirect": [f"v=spf1 redirect=_spf.{d.name}"],
        "loop": [f"v=spf1 include:_spf.{d.name} -all"],
        "long": ["v=spf1 " + " ".join(f"ip4:{addr.other()}" for _ in range(30)) + " -all"],
        "include_no_spf": ["v=spf1 include:nospf.esp-mail.example -all"],
        "own": [f"v=spf1 {own} mx -all"],
        "missing": [],
    }[kind]
    if kind == "redirect":
        d.add("_spf", "TXT", f"v=spf1 {own} include:_spf.esp-mail.example -all")
    elif kind == "loop":
        d.add("_spf", "TXT", f"v=spf1 include:{d.name} -all")
    for record in records:
        d.add("@", "TXT", record)
    d.spf = records
    if rng.random() < 0.3:  # the other TXT records every apex collects
        d.add("@", "TXT", f"site-verification={hashlib.sha1(d.name.encode()).hexdigest()}")
    if (
        rng.random() < 0.02 and records and len(records[0]) < 255
    ):  # the SPF RR type 99, deprecated by RFC 7208 §3.1
        d.add("@", "SPF", '"' + records[0] + '"')


def _dmarc(d: LabDomain, rng: random.Random) -> None:
    kind = _pick(
        rng,
        {"none": 22, "none_external": 8, "quarantine": 11, "quarantine_pct": 6, "reject": 14,
         "reject_unauthorised": 5, "reject_sp_none": 3, "dmarcbis": 3, "missing": 14, "invalid": 5,
         "multiple": 3, "no_policy": 2, "cname": 4},
    )  # fmt: skip
    d.profile["dmarc"] = kind
    rua = f"rua=mailto:dmarc@{d.name}"
    records = {
        "none": [f"v=DMARC1; p=none; {rua}"],
        "none_external": [
            "v=DMARC1; p=none; rua=mailto:agg@dmarc-reports.example; ruf=mailto:fo@dmarc-reports.example; fo=1"
        ],
        "quarantine": [f"v=DMARC1; p=quarantine; {rua}"],
        "quarantine_pct": [f"v=DMARC1; p=quarantine; pct={rng.choice((10, 25, 50))}; {rua}"],
        "reject": [f"v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s; {rua}"],
        "reject_unauthorised": ["v=DMARC1; p=reject; rua=mailto:reports@reports-unauth.example"],
        "reject_sp_none": [f"v=DMARC1; p=reject; sp=none; {rua}"],
        "dmarcbis": [f"v=DMARC1; p=reject; np=reject; t=n; psd=n; {rua}"],
        "invalid": [rng.choice(("v=DMARC1; p=block", "v=DMARC1 p=reject", "p=reject; v=DMARC1"))],
        "multiple": [f"v=DMARC1; p=none; {rua}", "v=DMARC1; p=reject"],
        "no_policy": [f"v=DMARC1; {rua}"],
        "cname": ["v=DMARC1; p=quarantine; rua=mailto:agg@dmarc-reports.example"],
        "missing": [],
    }[kind]
    d.dmarc = [r for r in records if r.startswith("v=DMARC1;")]
    if kind == "cname":  # a hosted DMARC service: the record lives in the provider's zone
        d.add("_dmarc", "CNAME", f"{d.name.replace('.', '-')}.dmarc.esp-mail.example.")
        return
    for record in records:
        d.add("_dmarc", "TXT", record)


def _dkim(d: LabDomain, rng: random.Random, keys: dict[str, str], esp: Records) -> None:
    count = rng.choices((0, 1, 2, 3), weights=(20, 45, 25, 10))[0]
    kinds = []
    for selector in rng.sample(SELECTORS, count):
        kind = _pick(
            rng,
            {"rsa2048": 45, "rsa1024": 22, "ed25519": 5, "rsa512": 2, "testing": 5, "sha1": 5, "revoked": 4,
             "broken": 3, "cname": 9},
        )  # fmt: skip
        kinds.append(f"{selector}:{kind}")
        if kind == "cname":  # ESPs have customers CNAME selectors to keys the ESP rotates
            target = f"{selector}-{d.name.replace('.', '-')}.dkim"
            d.add(f"{selector}._domainkey", "CNAME", f"{target}.esp-mail.example.")
            esp.setdefault(target, {})["TXT"] = [keys["rsa2048"]]
        else:
            d.add(f"{selector}._domainkey", "TXT", keys[kind])
    d.profile["dkim"] = " ".join(kinds) or "none"


def _transport(d: LabDomain, rng: random.Random) -> None:
    """MTA-STS (RFC 8461 §3.1), TLS-RPT (RFC 8460 §3), BIMI, CAA (RFC 8659)."""
    mta_sts = rng.random()
    if mta_sts < 0.22:
        d.add("_mta-sts", "TXT", f"v=STSv1; id=2025{rng.randrange(10**8):08d}")
    elif mta_sts < 0.25:
        d.add("_mta-sts", "TXT", rng.choice(("v=STSv1; id=", "v=STSv1;", "v=STSv2; id=1")))
    d.profile["mta_sts"] = "valid" if mta_sts < 0.22 else "invalid" if mta_sts < 0.25 else "none"
    tlsrpt = rng.random()
    if tlsrpt < 0.14:
        d.add("_smtp._tls", "TXT", f"v=TLSRPTv1; rua=mailto:tlsrpt@{d.name}")
    elif tlsrpt < 0.18:
        d.add("_smtp._tls", "TXT", "v=TLSRPTv1; rua=https://tlsrpt.esp-mail.example/v1/report")
    elif tlsrpt < 0.21:
        d.add("_smtp._tls", "TXT", f"v=TLSRPTv1; rua=tlsrpt@{d.name}")  # no URI scheme
    if d.profile["dmarc"] in ("reject", "dmarcbis", "quarantine") and rng.random() < 0.25:
        d.add("default._bimi", "TXT", f"v=BIMI1; l=https://bimi.{d.name}/logo.svg; a=")
    caa = rng.random()
    if caa < 0.4:
        d.add("@", "CAA", '0 issue "letsencrypt.org"')
        if caa < 0.15:
            d.add("@", "CAA", f'0 iodef "mailto:security@{d.name}"')
            d.add("@", "CAA", '0 issuewild ";"')


def _ns(d: LabDomain, rng: random.Random, addr: _Addresses) -> None:
    kind = _pick(rng, {"two": 40, "same_24": 15, "single": 10, "hosted": 35})
    d.profile["ns"] = kind
    if kind == "hosted":
        d.add("@", "NS", "ns1.dns-host.example.")
        d.add("@", "NS", "ns2.dns-host.example.")
        return
    first = addr.other()
    d.add("@", "NS", f"ns1.{d.name}.")
    d.add("ns1", "A", first)
    if kind == "single":
        return
    d.add("@", "NS", f"ns2.{d.name}.")
    second = first.rsplit(".", 1)[0] + ".251" if kind == "same_24" else addr.other()
    d.add("ns2", "A", second)


def _domain_name(index: int, rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}-{rng.choice(TRADES)}-{index:05d}.example"


def generate(count: int = 1000, seed: int = 3, *, servfail_rate: float = 0.01) -> LabDomains:
    """``count`` domains, each its own zone, plus the shared provider and reverse zones.

    DNSSEC and DANE choices come from a second generator (seeded from ``seed`` too), so every record but
    the TLSA ones is what the same seed gave before the lab was signed.
    """
    rng = random.Random(seed)
    secure = random.Random(f"dnssec-{seed}")
    keys = _seeded_keys(seed + 1)
    addr = _Addresses()
    zones: dict[str, Records] = {
        origin: {owner: {t: list(v) for t, v in rrsets.items()} for owner, rrsets in records.items()}
        for origin, records in SHARED_ZONES.items()
    }
    esp = zones["esp-mail.example"]
    behaviour: dict[str, str] = {}
    signing = {origin: dict(spec) for origin, spec in SHARED_SIGNING.items()}
    domains = []
    families: tuple[Callable[[LabDomain], None], ...] = (
        lambda d: _mx(d, rng, addr, secure),
        lambda d: _spf(d, rng, addr),
        lambda d: _dmarc(d, rng),
        lambda d: _dkim(d, rng, keys, esp),
        lambda d: _transport(d, rng),
        lambda d: _ns(d, rng, addr),
    )
    for index in range(count):
        d = LabDomain(_domain_name(index, rng))
        kind = _pick(secure, {k: weight for k, (weight, _) in DNSSEC_KINDS.items()})
        d.profile["dnssec"] = kind
        d.dnssec = None if kind == "unsigned" else dict(DNSSEC_KINDS[kind][1])
        for family in families:
            family(d)
        if d.profile["dmarc"] == "cname":
            esp[f"{d.name.replace('.', '-')}.dmarc"] = {"TXT": list(d.dmarc)}
        if rng.random() < servfail_rate:  # a broken server for one name: scanners must say "unknown"
            failing = rng.choice(("_dmarc", "@"))
            d.behaviour[d.name if failing == "@" else f"{failing}.{d.name}"] = "servfail"
            d.profile["servfail"] = failing
            behaviour.update(d.behaviour)
        zones[d.name] = d.records
        if d.dnssec is not None:
            signing[d.name] = d.dnssec
        domains.append(d)
    for prefix in PREFIXES:  # PTR for most addresses handed out, so FCrDNS can hold or fail
        reverse = ".".join(reversed(prefix.split("."))) + ".in-addr.arpa"
        zones[reverse] = {
            address.rsplit(".", 1)[1]: {"PTR": [f"{host}."]}
            for address, host in addr.ptr.items()
            if address.startswith(prefix + ".") and rng.random() < 0.8
        }
    return LabDomains(tuple(domains), zones, behaviour, signing)
