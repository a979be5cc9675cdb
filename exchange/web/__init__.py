"""Shared web pieces: layout, static assets, the start page, health probes."""
