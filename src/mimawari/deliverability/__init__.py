"""Deliverability: whether the big mailbox providers will take a domain's mail.

``requirements`` holds Gmail's, Yahoo's and Outlook.com's sender requirements as data (with their source
and the date they were checked) and ``matrix`` judges a domain against them; the spam-complaint figures
the matrix and the monitor need are imported from Google Postmaster Tools, Microsoft SNDS and complaint
feedback (ARF) messages.
"""
