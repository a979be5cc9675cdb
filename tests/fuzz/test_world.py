"""The fuzzed world itself: ids of both members to aim at, and no way off the machine."""

from __future__ import annotations

import socket

import pytest

from tests.fuzz.conftest import FUZZ_MEMBERS, MISSING_ID, MISSING_SLUG

pytestmark = pytest.mark.fuzz


def test_every_pool_names_real_rows_and_a_missing_one(fuzz_world):
    for name, values in fuzz_world.pools.items():
        assert len(values) >= 3, name  # rows of both members, and one that is missing
        assert values[-1] in (MISSING_ID, MISSING_SLUG, "cx_no_such_client"), name


def test_item_pairs_name_real_items_of_their_own_case(fuzz_world):
    from exchange.cases.models import Attachment, Note
    from exchange.db import db

    models = {"note_id": Note, "attachment_id": Attachment}
    with fuzz_world.app.app_context():
        for name, pairs in fuzz_world.pairs.items():
            assert len(pairs) >= 2, name  # one on each member's case at least
            for case_id, item_id in pairs:
                assert db.session.get(models[name], item_id).case_id == case_id


def test_both_programs_act_for_their_own_member_with_every_scope(fuzz_world):
    http = fuzz_world.app.test_client()
    for slug in FUZZ_MEMBERS:
        me = http.get("/api/v1/me", headers=fuzz_world.programs[slug].headers).json
        assert me["member"]["slug"] == slug
        assert {"cases:write", "webhooks:manage", "members:admin"} <= set(me["scopes"])


def test_host_names_other_than_loopback_do_not_resolve(local_names_only):
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 443)
    assert socket.getaddrinfo("127.0.0.1", 9)
