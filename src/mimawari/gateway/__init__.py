"""The mail gateway: find encrypted archives and documents in mail, and act on them as a milter.

``detect`` is pure (bytes in, an ``Inspection`` out); ``policy`` decides what to do with a verdict;
``milter`` speaks the Sendmail milter protocol to Postfix or Sendmail. Nothing here talks to scan targets.
"""
