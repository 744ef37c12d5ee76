"""Email posture, DNS category: SPF checks (RFC 7208), one module each."""

from mimawari.checks.email.dns.spf import (
    all_qualifier,
    include_targets,
    lookup_limit,
    present,
    ptr,
    record_size,
    single,
    spf_rr,
    syntax,
    void_lookups,
)

CHECKS = (
    present.CHECK,
    single.CHECK,
    syntax.CHECK,
    all_qualifier.CHECK,
    lookup_limit.CHECK,
    void_lookups.CHECK,
    include_targets.CHECK,
    ptr.CHECK,
    record_size.CHECK,
    spf_rr.CHECK,
)
