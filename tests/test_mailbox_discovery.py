"""Mailbox discovery and the observation: SRV, autoconfig, common names, what gets probed, reach, status."""

from __future__ import annotations

from mimawari.lookup import Request, Response, Snapshot, not_recorded, replay
from mimawari.model import Status
from mimawari.observations.mailbox import MailboxObservation, MailService, Reach, mailbox_plan
from mimawari.observations.mailbox_discovery import MAX_HOSTS, Origin, parse_srv
from mimawari.parse.autoconfig import MAX_SERVERS, parse_autoconfig
from mimawari.probes import ServiceRequest, StartTls, TlsScanRequest
from mimawari.serial import from_json, to_json
from tests.mailbox_samples import (
    AUTOCONFIG_HOST,
    DOMAIN,
    IMAP_HOST,
    V4,
    V6,
    answers,
    autoconfig_host,
    every_port,
    greeted,
    handshake_failed,
    host,
    observe,
    refused,
    served,
    snapshot,
    timed_out,
)

PROVIDER = "imap.provider.test"


def requests_of(snap: Snapshot) -> list[Request]:
    """Every request the plan made against ``snap`` (recorded or not)."""
    asked: list[Request] = []

    def recording(request: Request) -> Response:
        asked.append(request)
        return snap.response(request) or not_recorded(request)

    replay(mailbox_plan(snap.target), Snapshot(snap.target), recording)
    return asked


def sessions_asked(snap: Snapshot) -> list[ServiceRequest]:
    return [r for r in requests_of(snap) if isinstance(r, ServiceRequest)]


def test_nothing_published_is_not_applicable() -> None:
    observation = observe(snapshot(answers()))
    assert observation.status is Status.NOT_APPLICABLE
    assert observation.services == () and observation.hosts == ()
    assert len(observation.srv) == 6


def test_discovery_timeouts_leave_it_unknown() -> None:
    observation = observe(snapshot(answers({f"_imaps._tcp.{DOMAIN} SRV": "timeout"})))
    assert observation.status is Status.TIMEOUT
    assert "_imaps._tcp.example.test SRV" in observation.problem
    guessed = observe(snapshot(answers({f"mail.{DOMAIN} AAAA": "SERVFAIL"})))
    assert guessed.status is Status.ERROR
    assert "mail.example.test AAAA" in guessed.problem


def test_srv_dot_means_not_offered() -> None:
    given = answers({f"_pop3._tcp.{DOMAIN} SRV": ["0 0 0 ."], f"_pop3s._tcp.{DOMAIN} SRV": ["0 0 0 ."]})
    observation = observe(snapshot(given))
    declined = [lookup for lookup in observation.srv if lookup.declined]
    assert [lookup.service for lookup in declined] == [MailService.POP3S, MailService.POP3]
    assert all(lookup.hosts == () for lookup in declined)
    assert observation.status is Status.NOT_APPLICABLE
    assert any("not offered" in e.value for e in observation.discovery_evidence())


def test_srv_host_outside_the_domain_is_probed_on_the_named_port_only() -> None:
    given = answers({f"_imaps._tcp.{DOMAIN} SRV": [f"0 1 993 {PROVIDER}."], **host(PROVIDER)})
    snap = snapshot(given, greeted(MailService.IMAPS, PROVIDER))
    asked = sessions_asked(snap)
    assert asked == [ServiceRequest(MailService.IMAPS.protocol, PROVIDER, V4, 993, implicit_tls=True)]
    observation = observe(snap)
    assert observation.status is Status.PRESENT
    (found,) = observation.hosts
    assert (found.name, found.origins, found.advertised) == (PROVIDER, (Origin.SRV,), True)
    (service,) = observation.services
    assert (service.reach, service.advertised) == (Reach.ANSWERED, True)
    scans = [r for r in requests_of(snap) if isinstance(r, TlsScanRequest)]
    assert scans == [TlsScanRequest(PROVIDER, V4, 993, StartTls.NONE)]


def test_srv_port_and_priority_are_followed() -> None:
    given = answers(
        {
            f"_submission._tcp.{DOMAIN} SRV": [f"10 1 2587 backup.{DOMAIN}.", f"0 1 587 smtp.{DOMAIN}."],
            **host(f"backup.{DOMAIN}"),
            **host(f"smtp.{DOMAIN}", ("203.0.113.25",)),
        }
    )
    asked = sessions_asked(snapshot(given))
    # smtp. is advertised (587) and also a common name (all six ports): advertised first, then guesses.
    assert [(r.host, r.port) for r in asked][:2] == [(f"smtp.{DOMAIN}", 587), (f"smtp.{DOMAIN}", 993)]
    assert (f"backup.{DOMAIN}", 2587) in [(r.host, r.port) for r in asked]
    assert all(r.protocol.value == "smtp" for r in asked if r.host == f"backup.{DOMAIN}")
    observation = observe(snapshot(given))
    smtp = next(h for h in observation.hosts if h.name == f"smtp.{DOMAIN}")
    assert smtp.origins == (Origin.SRV, Origin.COMMON_NAME)
    advertised = {c.port: c.advertised for c in smtp.candidates}
    assert advertised == {587: True, 993: False, 143: False, 995: False, 110: False, 465: False}


def test_guessed_host_gets_six_ports_per_address_family() -> None:
    snap = snapshot(answers(host(IMAP_HOST, (V4, "203.0.113.11"), (V6,))))
    asked = sessions_asked(snap)
    assert len(asked) == 12  # one address per family: the second IPv4 address is not probed
    assert {r.address for r in asked} == {V4, V6}
    assert {(r.port, r.implicit_tls) for r in asked} == {
        (993, True),
        (143, False),
        (995, True),
        (110, False),
        (465, True),
        (587, False),
    }


def test_wildcard_names_probe_each_address_and_port_once() -> None:
    given = answers(
        {
            k: v
            for label in ("imap", "pop", "pop3", "mail", "smtp")
            for k, v in host(f"{label}.{DOMAIN}").items()
        }
    )
    asked = sessions_asked(snapshot(given))
    assert len(asked) == 6
    assert {r.host for r in asked} == {IMAP_HOST}


def test_hosts_are_capped_and_the_rest_recorded() -> None:
    targets = [f"0 1 993 h{i}.{DOMAIN}." for i in range(MAX_HOSTS + 2)]
    observation = observe(snapshot(answers({f"_imaps._tcp.{DOMAIN} SRV": targets})))
    assert len(observation.hosts) == MAX_HOSTS
    assert [d.name for d in observation.dropped] == [f"h{MAX_HOSTS}.{DOMAIN}", f"h{MAX_HOSTS + 1}.{DOMAIN}"]
    assert all("more than 6 hosts" in d.reason for d in observation.dropped)


def test_non_public_addresses_are_left_to_the_probe_scope() -> None:
    # The plan does not judge addresses: the probe client's scope refuses 10.0.0.5 on the internet and
    # allows it in an internal scan (--allow-private), as for MX hosts.
    snap = snapshot(answers(host(IMAP_HOST, ("10.0.0.5",))))
    assert {request.address for request in sessions_asked(snap)} == {"10.0.0.5"}
    assert not observe(snap).dropped


def test_reach_of_guessed_and_advertised_candidates() -> None:
    given = answers({f"_imaps._tcp.{DOMAIN} SRV": [f"0 1 993 {IMAP_HOST}."], **host()})
    snap = snapshot(
        given,
        timed_out(MailService.IMAPS),  # advertised: unknown
        timed_out(MailService.IMAP),  # guessed: filtered
        timed_out(MailService.POP3, connected=True),  # guessed, silent after connecting: filtered too
        handshake_failed(MailService.POP3S),  # implicit TLS port with a broken handshake: a service
        refused(MailService.SUBMISSION),
    )
    reach = {s.service: s.reach for s in observe(snap).services}
    assert reach == {
        MailService.IMAPS: Reach.UNKNOWN,
        MailService.IMAP: Reach.FILTERED,
        MailService.POP3S: Reach.TLS_FAILED,
        MailService.POP3: Reach.FILTERED,
        MailService.SUBMISSIONS: Reach.FILTERED,  # not recorded: replays as a timeout
        MailService.SUBMISSION: Reach.REFUSED,
    }
    assert observe(snap).status is Status.PRESENT  # the broken POP3S port is a service


def test_status_when_nothing_answered() -> None:
    closed = snapshot(answers(host()), *every_port())
    assert observe(closed).status is Status.NOT_APPLICABLE
    some_filtered = snapshot(answers(host()), *every_port(imaps=timed_out(MailService.IMAPS)))
    assert observe(some_filtered).status is Status.NOT_APPLICABLE
    silent = snapshot(answers(host()))  # every candidate timed out
    observation = observe(silent)
    assert observation.status is Status.TIMEOUT
    assert "all timed out" in observation.problem
    advertised = answers({f"_imaps._tcp.{DOMAIN} SRV": [f"0 1 993 {PROVIDER}."], **host(PROVIDER)})
    assert observe(snapshot(advertised)).status is Status.TIMEOUT
    unresolved = answers({f"_imaps._tcp.{DOMAIN} SRV": [f"0 1 993 {PROVIDER}."], f"{PROVIDER} A": "timeout"})
    unresolved[f"{PROVIDER} AAAA"] = "NODATA"
    observation = observe(snapshot(unresolved))
    assert observation.status is Status.TIMEOUT
    assert [h.name for h in observation.unresolved] == [PROVIDER]


def test_scans_follow_completed_handshakes_with_the_right_starttls() -> None:
    sessions = every_port(
        imap=greeted(MailService.IMAP),
        pop3=greeted(MailService.POP3),
        submission=greeted(MailService.SUBMISSION),
        imaps=handshake_failed(MailService.IMAPS),
    )
    scans = [r for r in requests_of(snapshot(answers(host()), *sessions)) if isinstance(r, TlsScanRequest)]
    assert scans == [
        TlsScanRequest(IMAP_HOST, V4, 143, StartTls.IMAP),
        TlsScanRequest(IMAP_HOST, V4, 110, StartTls.POP3),
        TlsScanRequest(IMAP_HOST, V4, 587, StartTls.SMTP),
    ]
    observation = observe(snapshot(answers(host()), *sessions))
    assert {e.session.request.port for e in observation.tls_endpoints()} == {143, 110, 587, 993}


AUTOCONFIG = f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{DOMAIN}">
    <domain>{DOMAIN}</domain>
    <incomingServer type="imap">
      <hostname>mail.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>{PROVIDER}</hostname>
      <port>110</port>
      <socketType>STARTTLS</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>mail.{DOMAIN}</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
    </outgoingServer>
    <incomingServer type="exchange"><hostname>ews.{DOMAIN}</hostname></incomingServer>
  </emailProvider>
</clientConfig>
"""


def test_autoconfig_names_advertised_hosts() -> None:
    given = answers({**autoconfig_host(), **host(f"mail.{DOMAIN}"), **host(PROVIDER, ("198.51.100.7",))})
    observation = observe(snapshot(given, served(AUTOCONFIG)))
    assert observation.autoconfig is not None
    assert observation.autoconfig.problems == ("incoming server of type 'exchange' ignored",)
    by_name = {h.name: h for h in observation.hosts}
    mail = by_name[f"mail.{DOMAIN}"]
    assert mail.origins == (Origin.AUTOCONFIG, Origin.COMMON_NAME)
    assert [(c.service, c.port, c.advertised) for c in mail.candidates][:2] == [
        (MailService.IMAPS, 993, True),
        (MailService.SUBMISSION, 587, True),
    ]
    assert [(c.service, c.port) for c in by_name[PROVIDER].candidates] == [(MailService.POP3, 110)]
    assert "imap mail.example.test:993 SSL" in observation.autoconfig.evidence().value


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<clientConfig><emailProvider><incomingServer type="imap"><hostname>&lol2;</hostname></incomingServer>
</emailProvider></clientConfig>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!doctype clientConfig [<!entity xxe SYSTEM "file:///etc/passwd">]>
<clientConfig><emailProvider><incomingServer type="imap"><hostname>&xxe;</hostname></incomingServer>
</emailProvider></clientConfig>"""


def test_hostile_autoconfig_is_refused_without_expansion() -> None:
    for body in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        document = parse_autoconfig(body, DOMAIN)
        assert document.servers == ()
        assert "refused" in document.problems[0]
    given = answers({**autoconfig_host()})
    observation = observe(snapshot(given, served(BILLION_LAUGHS)))
    assert observation.status is Status.NOT_APPLICABLE
    assert observation.autoconfig is not None and "DOCTYPE" in observation.autoconfig.evidence().value


def test_autoconfig_parsing_is_forgiving() -> None:
    assert "not well-formed" in parse_autoconfig("<clientConfig><oops>", DOMAIN).problems[0]
    assert "not clientConfig" in parse_autoconfig("<html><body/></html>", DOMAIN).problems[0]
    odd = f"""<clientConfig xmlns="urn:example"><emailProvider>
      <incomingServer type="IMAP"><hostname>203.0.113.9</hostname></incomingServer>
      <incomingServer type="imap"><hostname>Imap.{DOMAIN}.</hostname><port>99999</port>
        <socketType>starttls</socketType></incomingServer>
      <outgoingServer type="smtp"><hostname>%EMAILLOCALPART%.{DOMAIN}</hostname></outgoingServer>
    </emailProvider></clientConfig>"""
    document = parse_autoconfig(odd, DOMAIN)
    assert [(s.hostname, s.port, s.socket_type) for s in document.servers] == [(IMAP_HOST, None, "STARTTLS")]
    assert len(document.problems) == 2
    many = "".join(
        f'<incomingServer type="imap"><hostname>h{i}.{DOMAIN}</hostname></incomingServer>' for i in range(40)
    )
    crowded = parse_autoconfig(f"<clientConfig><emailProvider>{many}</emailProvider></clientConfig>", DOMAIN)
    assert len(crowded.servers) == MAX_SERVERS
    assert "more than" in crowded.problems[-1]


def test_autoconfig_fetch_problems() -> None:
    missing = observe(snapshot(answers(autoconfig_host()), served("not found", 404)))
    assert missing.status is Status.NOT_APPLICABLE
    assert missing.autoconfig is not None and "HTTP 404" in missing.autoconfig.evidence().value
    silent = observe(snapshot(answers(autoconfig_host())))  # the fetch timed out
    assert silent.status is Status.TIMEOUT
    assert AUTOCONFIG_HOST in silent.problem


def test_srv_parsing() -> None:
    parsed = parse_srv("0 5 993 IMAP.Example.Test.")
    assert parsed is not None and (parsed.port, parsed.target) == (993, IMAP_HOST)
    dot = parse_srv("0 0 0 .")
    assert dot is not None and dot.target == "."
    assert parse_srv("not a record") is None
    given = answers({f"_imap._tcp.{DOMAIN} SRV": ["garbage", "0 1 143 bad_name!.example.test."]})
    observation = observe(snapshot(given))
    assert observation.hosts == ()


def test_observation_round_trips_through_json() -> None:
    given = answers({f"_imaps._tcp.{DOMAIN} SRV": [f"0 1 993 {IMAP_HOST}."], **host(), **autoconfig_host()})
    sessions = every_port(imaps=greeted(MailService.IMAPS), imap=greeted(MailService.IMAP))
    observation = observe(snapshot(given, served(AUTOCONFIG), *sessions))
    assert from_json(MailboxObservation, to_json(observation)) == observation
