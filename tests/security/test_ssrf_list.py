"""The SSRF list of the webhooks issue, kept whole: every address on it is refused at
registration (tests/webhooks/test_ssrf.py), and a name resolving to loopback too."""

from tests.webhooks import test_ssrf

ISSUE_LIST = [
    "127.0.0.1",
    "10.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::ffff:127.0.0.1",
    "fd00::1",
    "fe80::1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::",
    "198.18.0.1",
    "240.0.0.1",
]


def test_the_webhooks_ssrf_tests_cover_the_whole_issue_list():
    registration = test_ssrf.REFUSED[:13]  # what test_registration_refuses_... posts
    assert sorted(ISSUE_LIST) == sorted(registration)
    marks = test_ssrf.test_names_and_odd_spellings_that_reach_loopback_are_refused.pytestmark
    [hosts] = [m.args[1] for m in marks if m.name == "parametrize"]
    assert "localhost" in hosts
