"""The TLS probing benchmark (bench/tls_probe.py): its mimawari half on two lab endpoints, and how it
compares two tools' findings. sslyze is not run here."""

from __future__ import annotations

import json

import pytest
from bench.tls_agreement import Endpoint, Findings, compare, from_sslyze
from bench.tls_probe import lab_endpoints, lab_yaml, main

from mimawari.lab.world import Lab


def test_the_mimawari_half_runs_against_a_lab_of_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--endpoints", "2", "--repeat", "1", "--no-sslyze", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["profiles"]["modern"] == document["profiles"]["legacy"] == 1
    run = document["median"]["mimawari"]
    assert run["endpoints"] == 2
    assert run["wall"] > 0
    # The lab counted the scans' connections: at least a version probe each for SSLv3 … TLS 1.3, and
    # one per accepted suite (TLS 1.0 to 1.3 on the legacy server).
    assert run["connections"] >= 2 * 5 + 8
    assert "ratio" not in document
    assert "agreement" not in document


def test_the_generated_lab_is_a_valid_lab_document() -> None:
    endpoints = lab_endpoints(800)  # past the three IPv4 documentation /24s, into 2001:db8::/32
    assert endpoints[-1].address.startswith("2001:db8::")
    assert len({e.address for e in endpoints}) == 800
    lab = Lab.from_yaml(lab_yaml(endpoints[:7] + endpoints[-1:]))
    assert [s.host for s in lab.mail.servers.servers][-1] == "mx800.tlsbench.example"


def _findings(suites: dict[str, set[str]], curves: set[str]) -> Findings:
    everything = frozenset({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_X"})
    return Findings(
        {version: frozenset(names) for version, names in suites.items()},
        dict.fromkeys(("TLSv1.2", "TLSv1.3"), everything),
        frozenset(curves),
        frozenset({"x25519", "secp256r1"}),
    )


def test_compare_lists_what_only_one_tool_found() -> None:
    endpoint = Endpoint("mx1.tlsbench.example", "203.0.113.1", "modern")
    ours = _findings({"TLSv1.3": {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}}, {"x25519"})
    theirs = _findings({"TLSv1.2": {"TLS_X"}, "TLSv1.3": {"TLS_AES_128_GCM_SHA256"}}, {"x25519", "secp256r1"})
    agreement = compare([endpoint], {endpoint.host: ours}, {endpoint.host: theirs})
    assert (agreement["versions_agree"], agreement["suites_agree"], agreement["curves_agree"]) == (0, 0, 0)
    rows = {
        row["what"]: (row["mimawari"], row["sslyze"], row["explained"]) for row in agreement["mismatches"]
    }
    assert rows == {
        "versions": ("-", "TLSv1.2", False),
        "TLSv1.3 suites": ("TLS_AES_256_GCM_SHA384", "-", False),
        "EC curves": ("-", "secp256r1", False),  # sslyze found more: not the explained case
    }


def test_sslyze_json_is_read_in_iana_and_registry_names() -> None:
    def command(accepted: list[str], rejected: list[str]) -> dict[str, object]:
        return {
            "status": "COMPLETED",
            "result": {
                "is_tls_version_supported": bool(accepted),
                "accepted_cipher_suites": [{"cipher_suite": {"name": name}} for name in accepted],
                "rejected_cipher_suites": [{"cipher_suite": {"name": name}} for name in rejected],
            },
        }

    result: dict[str, object] = {
        f"{key}_cipher_suites": command([], ["TLS_RSA_WITH_AES_128_CBC_SHA"])
        for key in ("ssl_3_0", "tls_1_0", "tls_1_1", "tls_1_2")
    }
    result["tls_1_3_cipher_suites"] = command(["TLS_AES_128_GCM_SHA256"], ["TLS_AES_256_GCM_SHA384"])
    result["elliptic_curves"] = {
        "status": "COMPLETED",
        "result": {"supported_curves": [{"name": "X25519"}], "rejected_curves": [{"name": "secp521r1"}]},
    }
    broken = {"server_location": {"hostname": "mx2.tlsbench.example"}, "scan_result": None}
    document = {
        "server_scan_results": [
            {"server_location": {"hostname": "mx1.tlsbench.example"}, "scan_result": result},
            broken,  # a server sslyze could not reach is left out, not counted as refusing everything
        ]
    }
    found = from_sslyze(document)
    assert list(found) == ["mx1.tlsbench.example"]
    mx1 = found["mx1.tlsbench.example"]
    assert mx1.suites == {"TLSv1.3": frozenset({"TLS_AES_128_GCM_SHA256"})}
    assert mx1.offered["TLSv1.3"] == {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}
    assert mx1.curves == {"x25519"}
    assert mx1.curves_offered == {"x25519", "secp521r1"}
