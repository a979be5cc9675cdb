"""Fixtures for the security tests: the demo members (``acme`` owns the resources,
``initech`` is another member) with programs, reused from the case tests."""

from tests.cases.conftest import attachments_dir, case_world, config_value, programs

__all__ = ["attachments_dir", "case_world", "config_value", "programs"]
