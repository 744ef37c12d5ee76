"""DKIM key discovery: which ``<selector>._domainkey.<domain>`` names publish a key, and what key.

DKIM has no index of selectors: a verifier learns the selector from a message's signature (RFC 6376
§3.1), and DNS cannot list them. So the plan asks for the selectors the user named plus a built-in list of
common and provider-specific ones, and the domain's MX and TXT records, whose providers (Microsoft 365 MX,
Google SPF include, …) say which selectors to expect. Finding no key this way is not proof that the
domain does not sign: the checks say so.

Most domains publish nothing under ``_domainkey`` at all, and the built-in list is most of a scan's DNS
queries. So the first round also asks ``_domainkey.<domain>`` itself: NXDOMAIN there means no name exists
at or below it (RFC 8020 §2), and the built-in list is skipped. NODATA (the usual answer when keys exist:
an empty non-terminal), records, a timeout or an error all lead to the whole list.
"""

from __future__ import annotations

from dataclasses import dataclass

from mimawari.lookup import DnsAnswer, Plan, Query, ask, txt_value
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.parse.dkim import DkimKeyRecord, looks_like_dkim_key, parse_dkim_key
from mimawari.parse.mx import parse_mx


@dataclass(frozen=True)
class Provider:
    """A mail provider: the selectors it signs with and how to recognise it in DNS."""

    name: str
    selectors: tuple[str, ...]
    """Empty when the provider's selectors are per-customer tokens that cannot be guessed."""
    mx: tuple[str, ...] = ()
    """Suffixes of its MX hosts."""
    spf: tuple[str, ...] = ()
    """Suffixes of the names customers ``include:`` in SPF."""
    cname: tuple[str, ...] = ()
    """Suffixes of the names customers' selectors are CNAME'd to (the key lives there)."""


# Where each entry comes from: the provider's own set-up documentation for custom-domain DKIM, unless the
# comment says otherwise. Selectors a provider lets the administrator choose are listed as their defaults.
PROVIDERS = (
    # Microsoft 365: two CNAMEs, selector1/selector2._domainkey → selector1-<domain>._domainkey.<tenant>.
    # onmicrosoft.com (newer tenants: …dkim.mail.microsoft), published before "Enable DKIM" in Defender.
    Provider(
        "Microsoft 365",
        ("selector1", "selector2"),
        mx=("mail.protection.outlook.com", "mx.microsoft"),
        spf=("spf.protection.outlook.com",),
        cname=("onmicrosoft.com", "dkim.mail.microsoft"),
    ),
    # Google Workspace: admin console "Authenticate email", default selector prefix "google" (a TXT record).
    Provider("Google Workspace", ("google",), mx=("google.com", "googlemail.com"), spf=("_spf.google.com",)),
    # Twilio SendGrid: automated security publishes s1/s2._domainkey CNAMEs to …sendgrid.net; "smtpapi" is the
    # selector of its older manual (TXT) set-up.
    Provider("SendGrid", ("s1", "s2", "smtpapi"), spf=("sendgrid.net",), cname=("sendgrid.net",)),
    # Amazon SES Easy DKIM: three <token>._domainkey CNAMEs to <token>.dkim.amazonses.com. The tokens are
    # random per identity, so no list can find them: pass them with --dkim-selector.
    Provider(
        "Amazon SES",
        (),
        mx=("amazonaws.com", "amazonses.com"),
        spf=("amazonses.com",),
        cname=("dkim.amazonses.com",),
    ),
    # Mailchimp: k2/k3._domainkey CNAMEs to dkim2/dkim3.mcsv.net; k1 is the selector of its older set-up.
    Provider("Mailchimp", ("k1", "k2", "k3"), spf=("servers.mcsv.net",), cname=("mcsv.net",)),
    # Mailchimp Transactional (Mandrill): mte1/mte2._domainkey CNAMEs to dkim1/dkim2.mandrillapp.com;
    # "mandrill" is the selector of its older TXT set-up.
    Provider(
        "Mandrill", ("mte1", "mte2", "mandrill"), spf=("spf.mandrillapp.com",), cname=("mandrillapp.com",)
    ),
    # Zoho Mail: the administrator names the selector in the admin console; "zoho" and "zmail" are the
    # names its help pages use as examples.
    Provider(
        "Zoho Mail",
        ("zoho", "zmail"),
        mx=("zoho.com", "zoho.eu", "zoho.in", "zoho.jp", "zoho.com.au", "zohomail.com"),
        spf=("zoho.com", "zoho.eu", "zoho.in", "zoho.jp", "zoho.com.au", "zohomail.com"),
    ),
    # Fastmail: fm1/fm2/fm3._domainkey CNAMEs to fm1.<domain>.dkim.fmhosted.com.
    Provider(
        "Fastmail",
        ("fm1", "fm2", "fm3"),
        mx=("messagingengine.com",),
        spf=("spf.messagingengine.com",),
        cname=("fmhosted.com",),
    ),
    # Proton Mail: protonmail/protonmail2/protonmail3._domainkey CNAMEs to …domains.proton.ch.
    Provider(
        "Proton Mail",
        ("protonmail", "protonmail2", "protonmail3"),
        mx=("protonmail.ch",),
        spf=("_spf.protonmail.ch",),
        cname=("proton.ch", "protonmail.ch"),
    ),
    # iCloud+ custom email domains: sig1._domainkey CNAME to sig1.dkim.<domain>.at.icloudmailadmin.com.
    Provider(
        "iCloud Mail", ("sig1",), mx=("mail.icloud.com",), spf=("icloud.com",), cname=("icloudmailadmin.com",)
    ),
    # Mailgun: the selector is shown in the domain's DNS settings; these are the ones it has issued most.
    Provider("Mailgun", ("k1", "krs", "pic", "mx", "smtp"), mx=("mailgun.org",), spf=("mailgun.org",)),
    # Postmark: the selector is a per-domain timestamp token (20231201123456pm); "pm" is its older fixed one.
    Provider("Postmark", ("pm",), spf=("spf.mtasv.net",), cname=("mtasv.net",)),
    # Salesforce: "DKIM Keys" in Setup takes an administrator-chosen selector, CNAME'd to
    # …custdkim.salesforce.com; sf1/sf2 are the usual choices. Marketing Cloud (ExactTarget) signs with 200608.
    Provider(
        "Salesforce",
        ("sf1", "sf2", "200608"),
        spf=("_spf.salesforce.com", "exacttarget.com"),
        cname=("custdkim.salesforce.com", "exacttarget.com"),
    ),
    Provider("Mailjet", ("mailjet",), spf=("spf.mailjet.com",)),
    # Brevo (formerly Sendinblue): brevo1/brevo2._domainkey CNAMEs to …dkim.brevo.com; "mail" was the
    # selector of Sendinblue's TXT set-up.
    Provider(
        "Brevo",
        ("brevo1", "brevo2", "mail"),
        spf=("spf.brevo.com", "spf.sendinblue.com"),
        cname=("brevo.com", "sendinblue.com"),
    ),
    Provider("Constant Contact", ("ctct1", "ctct2"), spf=("spf.constantcontact.com",)),
    Provider("Zendesk", ("zendesk1", "zendesk2"), spf=("mail.zendesk.com",), cname=("zendesk.com",)),
    # Mimecast: the administrator chooses the selector; recognised here so the report can say so.
    Provider("Mimecast", (), mx=("mimecast.com",), spf=("_netblocks.mimecast.com",)),
)

# Selectors seen across many domains that no single provider owns: defaults of signing software and of
# set-up guides. "default": cPanel and Plesk; "dkim": rspamd's default; "mail": OpenDKIM and Postfix
# guides, Yandex 360; "s1"/"s2", "k1"…"k3", "key1"/"key2", "dkim1", "selector", "smtp", "email": common
# naming in guides; everlytickey1/2: Everlytic; mxvault: MXVault.
COMMON_SELECTORS = (
    "default",
    "dkim",
    "mail",
    "selector",
    "s1",
    "s2",
    "k1",
    "k2",
    "k3",
    "google",
    "selector1",
    "selector2",
    "everlytickey1",
    "everlytickey2",
    "mxvault",
    "smtp",
    "email",
    "key1",
    "key2",
    "dkim1",
    "mandrill",
    "mailjet",
)


@dataclass(frozen=True)
class ProviderHint:
    """A provider the domain's MX or SPF records point to, and what pointed to it."""

    provider: str
    seen: tuple[str, ...]
    selectors: tuple[str, ...]


@dataclass(frozen=True)
class SelectorLookup:
    """One selector's TXT lookup: the key records found there, or what happened instead."""

    selector: str
    origin: str
    """``given`` (by the user), ``provider:<name>`` (the MX/SPF hints expect it) or ``common``."""
    answer: DnsAnswer
    keys: tuple[DkimKeyRecord, ...] = ()
    other_txt: tuple[str, ...] = ()
    """TXT records at the name that are not key records (e.g. a wildcard SPF record)."""

    @property
    def name(self) -> str:
        return self.answer.query.name

    @property
    def found(self) -> bool:
        return bool(self.keys)

    @property
    def delegated_to(self) -> str | None:
        """Where the selector's CNAME chain ends, i.e. where the key really lives."""
        return self.answer.cname_chain[-1] if self.answer.cname_chain else None


@dataclass(frozen=True)
class DkimObservation:
    """The outcome of selector discovery for one domain.

    ``status`` is PRESENT when at least one selector has a key record (revoked ones included), TIMEOUT or
    ERROR when none has but a selector lookup failed (so a key may still exist there), else ABSENT.
    """

    domain: str
    status: Status
    given: tuple[str, ...]
    """The selectors the user named (``--dkim-selector``), normalised."""
    tried: tuple[str, ...]
    """Every selector asked, in priority order: the user's, the hinted providers', then the rest."""
    selectors: tuple[SelectorLookup, ...] = ()
    """Every lookup that was not a plain "no such name": keys found, failures, CNAMEs to nothing."""
    not_found: tuple[str, ...] = ()
    hints: tuple[ProviderHint, ...] = ()
    hint_lookups: tuple[DnsAnswer, ...] = ()
    domainkey: DnsAnswer | None = None
    """The ``_domainkey.<domain>`` TXT lookup asked in the first round (see ``nothing_below``)."""
    skipped: tuple[str, ...] = ()
    """Built-in selectors not asked because ``_domainkey.<domain>`` was NXDOMAIN (RFC 8020 §2)."""

    @property
    def nothing_below(self) -> bool:
        """``_domainkey.<domain>`` is NXDOMAIN: no name, so no key, exists below it (RFC 8020 §2)."""
        return self.domainkey is not None and nothing_below(self.domainkey)

    @property
    def found(self) -> tuple[SelectorLookup, ...]:
        return tuple(lookup for lookup in self.selectors if lookup.found)

    @property
    def failed(self) -> tuple[SelectorLookup, ...]:
        return tuple(lookup for lookup in self.selectors if not lookup.answer.status.answered)

    @property
    def dangling(self) -> tuple[SelectorLookup, ...]:
        """Selectors CNAME'd elsewhere where no key record was found at the end of the chain."""
        return tuple(
            lookup
            for lookup in self.selectors
            if lookup.answer.status.answered and lookup.delegated_to and not lookup.found
        )

    @property
    def keys(self) -> tuple[tuple[SelectorLookup, DkimKeyRecord], ...]:
        return tuple((lookup, key) for lookup in self.found for key in lookup.keys)


def _matches(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


def provider_of(host: str) -> Provider | None:
    """The provider whose selectors are CNAME'd to ``host``, e.g. ``….dkim.amazonses.com``."""
    return next((p for p in PROVIDERS if any(_matches(host, s) for s in p.cname)), None)


def provider_hints(mx: DnsAnswer, txt: DnsAnswer) -> tuple[ProviderHint, ...]:
    """Providers named by the MX hosts and by the SPF record's ``include:``/``redirect=`` targets."""
    hosts = [parsed[1] for parsed in map(parse_mx, mx.records) if parsed is not None]
    spf_targets = [
        term.split(":", 1)[1] if term.startswith("include:") else term.split("=", 1)[1]
        for value in map(txt_value, txt.records)
        if value.lower().startswith("v=spf1")
        for term in value.lower().split()
        if term.startswith(("include:", "redirect="))
    ]
    hints = []
    for provider in PROVIDERS:
        seen = [f"MX {h}" for h in hosts if any(_matches(h, s) for s in provider.mx)]
        seen += [f"SPF {t}" for t in spf_targets if any(_matches(t, s) for s in provider.spf)]
        if seen:
            hints.append(ProviderHint(provider.name, tuple(seen), provider.selectors))
    return tuple(hints)


def normalize_selector(selector: str) -> str:
    return selector.strip().rstrip(".").lower()


def candidate_selectors(given: tuple[str, ...], hints: tuple[ProviderHint, ...]) -> dict[str, str]:
    """Selector → origin, in priority order: the user's, the hinted providers', common, other providers'."""
    candidates = dict.fromkeys(map(normalize_selector, given), "given")
    for hint in hints:
        for selector in hint.selectors:
            candidates.setdefault(selector, f"provider:{hint.provider}")
    for selector in COMMON_SELECTORS:
        candidates.setdefault(selector, "common")
    for provider in PROVIDERS:
        for selector in provider.selectors:
            candidates.setdefault(selector, f"provider:{provider.name}")
    candidates.pop("", None)
    return candidates


def _lookup(selector: str, origin: str, answer: DnsAnswer) -> SelectorLookup:
    # RFC 6376 §3.6.2.2: the strings of one TXT record are concatenated before use.
    values = [txt_value(record) for record in answer.records]
    keys = tuple(parse_dkim_key(value) for value in values if looks_like_dkim_key(value))
    others = tuple(value for value in values if not looks_like_dkim_key(value))
    return SelectorLookup(selector, origin, answer, keys, others)


def nothing_below(domainkey: DnsAnswer) -> bool:
    """True when the ``_domainkey.<domain>`` answer proves that no selector name exists (RFC 8020 §2).

    Only a plain NXDOMAIN for the name itself proves it: after a CNAME the NXDOMAIN is about the chain's
    end, and a timeout or an error says nothing about the names below.
    """
    return domainkey.status is Status.ABSENT and domainkey.nxdomain and not domainkey.cname_chain


def _selector_query(selector: str, domain: str) -> Query:
    return Query.of(f"{selector}._domainkey.{domain}", "TXT")


def dkim_plan(target: Target) -> Plan[DkimObservation]:
    domain = target.domain
    given = tuple(dict.fromkeys(s for s in map(normalize_selector, target.dkim_selectors) if s))
    # Round 1: the hints, the user's selectors, and _domainkey.<domain> to learn whether anything is below.
    mx, txt, domainkey, *given_answers = yield from ask(
        Query.of(domain, "MX"),
        Query.of(domain, "TXT"),
        Query.of(f"_domainkey.{domain}", "TXT"),
        *(_selector_query(selector, domain) for selector in given),
    )
    answers = dict(zip(given, given_answers, strict=True))
    hints = provider_hints(mx, txt)
    ordered = candidate_selectors(target.dkim_selectors, hints)
    if nothing_below(domainkey):
        # RFC 8020 §2 lets us skip the built-in list. The selectors the user named and those the MX/SPF
        # providers sign with are still asked: some servers (older authoritative software, DNS load
        # balancers) wrongly answer NXDOMAIN for an empty non-terminal, i.e. with names below it, and
        # for the selectors we have a reason to expect, that one lookup each is cheap insurance.
        wanted = [selector for hint in hints for selector in hint.selectors]
    else:
        wanted = list(ordered)
    rest = list(dict.fromkeys(selector for selector in wanted if selector not in answers))
    if rest:
        more = yield from ask(*(_selector_query(selector, domain) for selector in rest))
        answers.update(zip(rest, more, strict=True))
    lookups = [
        _lookup(selector, origin, answers[selector])
        for selector, origin in ordered.items()
        if selector in answers
    ]
    interesting = tuple(
        lookup
        for lookup in lookups
        if lookup.found or lookup.other_txt or lookup.answer.cname_chain or not lookup.answer.status.answered
    )
    not_found = tuple(lookup.selector for lookup in lookups if lookup not in interesting)
    if any(lookup.found for lookup in interesting):
        status = Status.PRESENT
    else:
        failures = [lookup.answer.status for lookup in interesting if not lookup.answer.status.answered]
        status = (
            (Status.TIMEOUT if Status.TIMEOUT in failures else Status.ERROR) if failures else Status.ABSENT
        )
    return DkimObservation(
        domain,
        status,
        given,
        tuple(lookup.selector for lookup in lookups),
        interesting,
        not_found,
        hints,
        (mx, txt),
        domainkey,
        tuple(selector for selector in ordered if selector not in answers),
    )


DKIM = Observer("dkim", dkim_plan)
