"""Monitoring: scheduled scans, what changed between two scans, alert rules and their notifiers."""
