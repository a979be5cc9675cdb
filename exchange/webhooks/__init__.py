"""Signed webhooks that keep every member's own tracker in sync with its cases."""
