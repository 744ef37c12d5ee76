"""Deliverability: whether the big mailbox providers will take a domain's mail.

``requirements`` holds Gmail's, Yahoo's and Outlook.com's sender requirements as data (with their source
and the date they were checked; the check ``email.other.sender_requirements`` and its matrix judge a
domain against them); the spam-complaint figures the matrix, the spam-rate check and the monitor need are
imported from Google Postmaster Tools, Microsoft SNDS and complaint feedback (ARF) messages and graded
by ``grading``.
"""
