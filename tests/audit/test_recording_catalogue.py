"""Products and communities are administration too: each change writes one entry in
the log of the member that made it."""

from __future__ import annotations

from tests.audit.conftest import post_form


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json if response.status_code != 204 else None


def test_products_and_versions_over_the_api(audit, db_session):
    acme = audit.member("acme")
    program = audit.program("acme")
    api = program.api

    def one(mark, action, target_type, target_id):
        entry = audit.one_since(mark)
        assert (entry.action, entry.target_type, entry.target_id) == (
            action,
            target_type,
            str(target_id),
        )
        assert entry.member_id == acme.id and entry.actor_client_id == program.client_id
        return entry

    mark = audit.mark()
    product = _ok(
        api.post(
            "/api/v1/members/acme/products",
            json={"name": "Tape Library", "versions": [{"version": "1.0"}]},
        ),
        201,
    )
    entry = one(mark, "product.created", "product", product["id"])
    assert entry.changes == {"name": "Tape Library", "versions": ["1.0"]}

    mark = audit.mark()
    _ok(api.patch(f"/api/v1/products/{product['id']}", json={"description": "LTO"}))
    entry = one(mark, "product.updated", "product", product["id"])
    assert entry.changes == {"description": {"from": "", "to": "LTO"}}

    mark = audit.mark()
    version = _ok(
        api.post(
            f"/api/v1/products/{product['id']}/versions",
            json={"version": "2.0", "release_date": "2026-01-01"},
        ),
        201,
    )
    entry = one(mark, "product.version_added", "product_version", version["id"])
    assert entry.target_label == "Tape Library 2.0"
    assert entry.changes["release_date"] == "2026-01-01"

    mark = audit.mark()
    path = f"/api/v1/product-versions/{version['id']}"
    _ok(api.patch(path, json={"end_of_support_date": "2030-12-31"}))
    entry = one(mark, "product.version_updated", "product_version", version["id"])
    assert entry.changes == {"end_of_support_date": {"from": None, "to": "2030-12-31"}}

    mark = audit.mark()
    _ok(api.delete(path), 204)
    one(mark, "product.version_deleted", "product_version", version["id"])

    mark = audit.mark()
    _ok(api.delete(f"/api/v1/products/{product['id']}"), 204)
    one(mark, "product.deleted", "product", product["id"])


def test_communities_over_the_api_land_in_the_acting_members_log(audit, db_session):
    acme, globex = audit.member("acme"), audit.member("globex")
    owner, guest = audit.program("acme"), audit.program("globex")

    mark = audit.mark()
    _ok(owner.api.post("/api/v1/communities", json={"slug": "tape-club", "name": "Tape"}), 201)
    entry = audit.one_since(mark)
    assert (entry.action, entry.target_id, entry.member_id) == (
        "community.created",
        "tape-club",
        acme.id,
    )

    mark = audit.mark()
    _ok(
        owner.api.post("/api/v1/communities/tape-club/invitations", json={"member": "globex"}),
        201,
    )
    entry = audit.one_since(mark)
    assert (entry.action, entry.changes, entry.member_id) == (
        "community.member_invited",
        {"member": "globex"},
        acme.id,
    )

    mark = audit.mark()
    _ok(guest.api.post("/api/v1/communities/tape-club/accept"))
    entry = audit.one_since(mark)
    assert (entry.action, entry.member_id, entry.actor_client_id) == (
        "community.joined",
        globex.id,
        guest.client_id,
    )

    mark = audit.mark()
    _ok(guest.api.delete("/api/v1/communities/tape-club/members/globex"), 204)
    entry = audit.one_since(mark)
    assert (entry.action, entry.member_id, entry.changes) == (
        "community.left",
        globex.id,
        {"declined": False},
    )

    _ok(
        owner.api.post("/api/v1/communities/tape-club/invitations", json={"member": "globex"}),
        201,
    )
    mark = audit.mark()
    _ok(owner.api.delete("/api/v1/communities/tape-club/members/globex"), 204)
    entry = audit.one_since(mark)
    assert (entry.action, entry.member_id, entry.changes) == (
        "community.member_removed",
        acme.id,
        {"member": "globex"},
    )


def test_products_and_communities_from_the_pages(audit, db_session):
    alice = audit.person("admin@acme.example")
    mark = audit.mark()
    response = post_form(
        alice, "/admin/products", {"product-name": "Disk Shelf"}, page="/admin/products"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    entry = audit.one_since(mark)
    assert (entry.action, entry.target_label, entry.actor_label, entry.origin) == (
        "product.created",
        "Disk Shelf",
        "admin@acme.example",
        "web",
    )

    mark = audit.mark()
    response = post_form(
        alice,
        "/admin/communities",
        {"community-slug": "shelf-club", "community-name": "Shelf club"},
        page="/admin/communities",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    entry = audit.one_since(mark)
    assert (entry.action, entry.target_id, entry.actor_kind) == (
        "community.created",
        "shelf-club",
        "person",
    )
