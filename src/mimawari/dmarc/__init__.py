"""DMARC reports: aggregate (RFC 7489 appendix C, RFC 9990), failure (ARF: RFC 6591, RFC 9991) and SMTP TLS
reports (RFC 8460), parsed safely and streamed, stored once, and read as a sender inventory and the
readiness to tighten the policy."""
