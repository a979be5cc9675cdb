"""E-mail notices to people."""
