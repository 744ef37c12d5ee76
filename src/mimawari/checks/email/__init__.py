"""Email posture checks, in the four MXSCORE/25-style categories (DNS, MTA, mailbox, other)."""
