"""Products and their support lifecycle (source 000 §4): versions with release and
end-of-support dates, status derived from the date, the lifecycle warning, the published
list of obsolete versions, and finding a member by product name in the directory."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from exchange.auth.actor import Actor
from exchange.errors import AlreadyExists, NotFound, Problem, ValidationFailed
from exchange.members.service import products

WRITER_SCOPES = ("processes:write", "directory:read")
TODAY = date(2026, 6, 15)


def program(member, *scopes: str) -> Actor:
    return Actor(member=member, scopes=frozenset(scopes or WRITER_SCOPES))


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code
    return response.json


@pytest.fixture()
def vendor(make_member):
    return make_member("vendor", "Vendor Storage")


@pytest.fixture()
def partner(make_member):
    return make_member("partner", "Partner Virtualization")


@pytest.fixture()
def owner(vendor):
    return program(vendor)


@pytest.fixture()
def admin(api, vendor):
    return api(vendor, scopes=WRITER_SCOPES)


@pytest.fixture()
def other(api, partner):
    return api(partner, scopes=("directory:read",))


def array_os(owner, **kw):
    return products.create_product(
        actor=owner,
        member=owner.member,
        name=kw.pop("name", "Array OS"),
        description="Storage array firmware.",
        versions=kw.pop(
            "versions",
            [
                {
                    "version": "5.4",
                    "release_date": date(2021, 3, 1),
                    "end_of_support_date": date(2026, 6, 14),
                },
                {
                    "version": "6.0",
                    "release_date": date(2024, 2, 1),
                    "end_of_support_date": date(2026, 6, 15),
                },
                {"version": "7.1", "release_date": date(2026, 1, 10), "end_of_support_date": None},
            ],
        ),
    )


# -- the service ---------------------------------------------------------------------


def test_status_is_derived_from_the_end_of_support_date(owner, vendor):
    array_os(owner)

    [(product, versions)] = products.list_products(member=vendor, today=TODAY)

    assert product.name == "Array OS"
    assert {v.version: v.status_on(TODAY) for v in versions} == {
        "5.4": "obsolete",  # ended yesterday
        "6.0": "supported",  # ends today: still supported today
        "7.1": "supported",  # no end announced
    }
    assert {v.version: v.status_on(TODAY + timedelta(days=1)) for v in versions}["6.0"] == (
        "obsolete"
    )


def test_listing_by_status_gives_only_matching_versions(owner, vendor):
    array_os(owner)
    products.create_product(
        actor=owner,
        member=vendor,
        name="Replicator",
        versions=[{"version": "2.1", "release_date": date(2025, 5, 12)}],
    )

    obsolete = products.list_products(member=vendor, status="obsolete", today=TODAY)
    supported = products.list_products(member=vendor, status="supported", today=TODAY)

    assert [(p.name, [v.version for v in vs]) for p, vs in obsolete] == [("Array OS", ["5.4"])]
    assert [(p.name, [v.version for v in vs]) for p, vs in supported] == [
        ("Array OS", ["6.0", "7.1"]),
        ("Replicator", ["2.1"]),
    ]
    later = products.list_products(member=vendor, status="obsolete", today=date(2030, 1, 1))
    assert [(p.name, [v.version for v in vs]) for p, vs in later] == [("Array OS", ["5.4", "6.0"])]


def test_a_short_lifecycle_is_warned_about(owner):
    product = array_os(
        owner,
        versions=[
            {
                "version": "5.0",
                "release_date": date(2020, 1, 1),
                "end_of_support_date": date(2024, 5, 31),
            },
            {"version": "6.0", "release_date": date(2024, 1, 15)},
        ],
    )

    [warning] = products.lifecycle_warnings(product)

    assert "5" in warning and "6" in warning
    assert "2024-05-31" in warning and "2024-01-15" in warning


def test_a_long_enough_lifecycle_has_no_warning(owner):
    product = array_os(
        owner,
        versions=[
            {
                "version": "5.0",
                "release_date": date(2020, 1, 1),
                "end_of_support_date": date(2024, 9, 30),
            },
            {"version": "5.1", "release_date": date(2021, 1, 1)},
            {"version": "6.0", "release_date": date(2024, 1, 15)},
        ],
    )

    assert products.lifecycle_warnings(product) == []


def test_the_warning_looks_at_the_next_majors_first_release(owner):
    # 6.0 is released 2024-01-15, 6.1 later: 5's end must be six months after 6.0.
    product = array_os(
        owner,
        versions=[
            {
                "version": "5.0",
                "release_date": date(2020, 1, 1),
                "end_of_support_date": date(2024, 4, 1),
            },
            {"version": "6.1", "release_date": date(2024, 3, 1)},
            {"version": "6.0", "release_date": date(2024, 1, 15)},
        ],
    )

    [warning] = products.lifecycle_warnings(product)
    assert "2024-01-15" in warning


def test_a_minor_release_is_not_a_successor(owner):
    product = array_os(
        owner,
        versions=[
            {
                "version": "5.0",
                "release_date": date(2020, 1, 1),
                "end_of_support_date": date(2024, 2, 1),
            },
            {"version": "5.1", "release_date": date(2024, 1, 15)},
        ],
    )

    assert products.lifecycle_warnings(product) == []


def test_duplicate_names_and_versions_are_refused(owner, vendor, partner):
    product = array_os(owner)

    with pytest.raises(AlreadyExists) as caught:
        array_os(owner)
    assert caught.value.code == "already_exists"
    with pytest.raises(AlreadyExists) as caught:
        products.add_version(actor=owner, product=product, data={"version": "6.0"})
    assert set(caught.value.errors) == {"version"}
    with pytest.raises(AlreadyExists) as caught:
        array_os(owner, name="Twin", versions=[{"version": "1"}, {"version": "1"}])
    assert set(caught.value.errors) == {"versions.1.version"}
    # Another member may have a product of the same name.
    assert array_os(program(partner)).member_id == partner.id


def test_an_end_before_the_release_is_refused(owner):
    with pytest.raises(ValidationFailed) as caught:
        array_os(
            owner,
            name="Backwards",
            versions=[
                {
                    "version": "1",
                    "release_date": date(2025, 1, 1),
                    "end_of_support_date": date(2024, 1, 1),
                }
            ],
        )
    assert set(caught.value.errors) == {"versions.0.end_of_support_date"}

    product = array_os(owner)
    five = next(v for v in product.versions if v.version == "5.4")
    with pytest.raises(ValidationFailed) as caught:
        products.update_version(
            actor=owner, version=five, changes={"end_of_support_date": date(2020, 1, 1)}
        )
    assert set(caught.value.errors) == {"end_of_support_date"}
    assert five.end_of_support_date == date(2026, 6, 14)


def test_only_the_owner_with_processes_write_changes_products(owner, vendor, partner):
    product = array_os(owner)

    with pytest.raises(NotFound):
        products.create_product(actor=program(partner), member=vendor, name="Mole")
    with pytest.raises(NotFound):
        products.update_product(actor=program(partner), product=product, changes={"name": "X"})
    with pytest.raises(NotFound):
        products.add_version(actor=program(partner), product=product, data={"version": "9"})
    with pytest.raises(NotFound):
        products.delete_product(actor=program(partner), product=product)
    with pytest.raises(Problem) as caught:
        products.add_version(
            actor=program(vendor, "directory:read"), product=product, data={"version": "9"}
        )
    assert caught.value.code == "insufficient_scope"
    assert [v.version for v in product.versions] == ["5.4", "6.0", "7.1"]


def test_find_product_version(owner, vendor, partner):
    array_os(owner)

    found = products.find_product_version(member=vendor, name="Array OS", version="5.4")

    assert found.end_of_support_date == date(2026, 6, 14)
    assert products.find_product_version(member=vendor, name="Array OS", version="9") is None
    assert products.find_product_version(member=partner, name="Array OS", version="5.4") is None


# -- the API -------------------------------------------------------------------------


def _create(admin, slug, **body):
    response = admin.post(f"/api/v1/members/{slug}/products", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def test_create_a_product_with_versions_add_one_and_announce_an_end(admin, other, vendor):
    today = date.today()
    created = _create(
        admin,
        vendor.slug,
        name="Array OS",
        description="Firmware.",
        versions=[
            {
                "version": "5.4",
                "release_date": "2021-03-01",
                "end_of_support_date": (today - timedelta(days=1)).isoformat(),
            },
            {"version": "6.0", "release_date": "2024-02-01"},
        ],
    )
    assert created["member"] == "vendor"
    assert created["name"] == "Array OS"
    assert [(v["version"], v["status"]) for v in created["versions"]] == [
        ("5.4", "obsolete"),
        ("6.0", "supported"),
    ]
    pid = created["id"]

    added = admin.post(
        f"/api/v1/products/{pid}/versions",
        json={"version": "7.0", "release_date": "2025-11-01", "end_of_support_date": None},
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    assert added.json["version"] == "7.0"
    assert added.json["release_date"] == "2025-11-01"
    assert added.json["status"] == "supported"

    six = next(v for v in created["versions"] if v["version"] == "6.0")
    ended = (today - timedelta(days=10)).isoformat()
    patched = admin.patch(
        f"/api/v1/product-versions/{six['id']}", json={"end_of_support_date": ended}
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    assert patched.json == {
        "id": six["id"],
        "version": "6.0",
        "release_date": "2024-02-01",
        "end_of_support_date": ended,
        "status": "obsolete",
    }

    listed = other.get(f"/api/v1/members/{vendor.slug}/products")
    assert listed.status_code == 200
    [product] = listed.json
    assert [(v["version"], v["status"]) for v in product["versions"]] == [
        ("5.4", "obsolete"),
        ("6.0", "obsolete"),
        ("7.0", "supported"),
    ]
    assert other.get(f"/api/v1/products/{pid}").json == product


def test_adding_a_version_with_only_a_name(admin, vendor):
    pid = _create(admin, vendor.slug, name="Tool")["id"]

    added = admin.post(f"/api/v1/products/{pid}/versions", json={"version": "1.0"})

    assert added.status_code == 201, added.get_data(as_text=True)
    assert added.json["release_date"] is None
    assert added.json["end_of_support_date"] is None
    assert added.json["status"] == "supported"


def test_the_published_list_of_obsolete_versions(admin, other, vendor):
    today = date.today()
    _create(
        admin,
        vendor.slug,
        name="Array OS",
        versions=[
            {
                "version": "5.4",
                "release_date": "2021-03-01",
                "end_of_support_date": (today - timedelta(days=30)).isoformat(),
            },
            {"version": "6.0", "release_date": "2024-02-01"},
        ],
    )
    _create(admin, vendor.slug, name="Replicator", versions=[{"version": "2.1"}])

    obsolete = other.get(f"/api/v1/members/{vendor.slug}/products?status=obsolete")
    supported = other.get(f"/api/v1/members/{vendor.slug}/products?status=supported")

    assert obsolete.status_code == 200
    assert [(p["name"], [v["version"] for v in p["versions"]]) for p in obsolete.json] == [
        ("Array OS", ["5.4"])
    ]
    assert all(v["status"] == "obsolete" for p in obsolete.json for v in p["versions"])
    assert [(p["name"], [v["version"] for v in p["versions"]]) for p in supported.json] == [
        ("Array OS", ["6.0"]),
        ("Replicator", ["2.1"]),
    ]
    bad = other.get(f"/api/v1/members/{vendor.slug}/products?status=retired")
    assert_problem(bad, 422, "validation_failed")
    assert_problem(other.get("/api/v1/members/nobody/products"), 404, "not_found")


def test_the_lifecycle_warning_is_in_the_product(admin, vendor):
    short = _create(
        admin,
        vendor.slug,
        name="Short",
        versions=[
            {"version": "1.0", "release_date": "2020-01-01", "end_of_support_date": "2023-03-01"},
            {"version": "2.0", "release_date": "2023-01-01"},
        ],
    )
    long = _create(
        admin,
        vendor.slug,
        name="Long",
        versions=[
            {"version": "1.0", "release_date": "2020-01-01", "end_of_support_date": "2023-12-31"},
            {"version": "2.0", "release_date": "2023-01-01"},
        ],
    )

    assert len(short["warnings"]) == 1
    assert "six months" in short["warnings"][0]
    assert long["warnings"] == []


def test_duplicates_are_409_already_exists(admin, vendor):
    pid = _create(admin, vendor.slug, name="Array OS", versions=[{"version": "5.4"}])["id"]

    assert_problem(
        admin.post(f"/api/v1/members/{vendor.slug}/products", json={"name": "Array OS"}),
        409,
        "already_exists",
    )
    assert_problem(
        admin.post(f"/api/v1/products/{pid}/versions", json={"version": "5.4"}),
        409,
        "already_exists",
    )
    other_pid = _create(admin, vendor.slug, name="Replicator")["id"]
    assert_problem(
        admin.patch(f"/api/v1/products/{other_pid}", json={"name": "Array OS"}),
        409,
        "already_exists",
    )
    assert len(admin.get(f"/api/v1/members/{vendor.slug}/products").json) == 2


def test_an_end_before_the_release_is_a_422(admin, vendor):
    response = admin.post(
        f"/api/v1/members/{vendor.slug}/products",
        json={
            "name": "Backwards",
            "versions": [
                {"version": "1", "release_date": "2025-01-01", "end_of_support_date": "2024-01-01"}
            ],
        },
    )

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"versions.0.end_of_support_date"}
    assert admin.get(f"/api/v1/members/{vendor.slug}/products").json == []

    product = _create(
        admin,
        vendor.slug,
        name="Forwards",
        versions=[{"version": "1", "release_date": "2025-01-01"}],
    )
    vid = product["versions"][0]["id"]
    patched = admin.patch(
        f"/api/v1/product-versions/{vid}", json={"end_of_support_date": "2024-12-31"}
    )
    body = assert_problem(patched, 422, "validation_failed")
    assert set(body["errors"]) == {"end_of_support_date"}
    assert (
        admin.get(f"/api/v1/products/{product['id']}").json["versions"][0]["end_of_support_date"]
        is None
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "X", "versions": [{"release_date": "2024-01-01"}]}, "versions.0.version"),
        (
            {"name": "X", "versions": [{"version": "1", "release_date": "soon"}]},
            "versions.0.release_date",
        ),
        ({"name": "X", "colour": "red"}, "colour"),
    ],
)
def test_bad_product_input_names_the_field(admin, vendor, body, field):
    response = admin.post(f"/api/v1/members/{vendor.slug}/products", json=body)

    assert field in assert_problem(response, 422, "validation_failed")["errors"]


def test_another_member_cannot_change_products(api, partner, admin, vendor):
    product = _create(admin, vendor.slug, name="Array OS", versions=[{"version": "5.4"}])
    intruder = api(partner, scopes=WRITER_SCOPES)
    vid = product["versions"][0]["id"]

    for response in (
        intruder.post(f"/api/v1/members/{vendor.slug}/products", json={"name": "Mole"}),
        intruder.patch(f"/api/v1/products/{product['id']}", json={"name": "Pwned"}),
        intruder.delete(f"/api/v1/products/{product['id']}"),
        intruder.post(f"/api/v1/products/{product['id']}/versions", json={"version": "9"}),
        intruder.patch(f"/api/v1/product-versions/{vid}", json={"end_of_support_date": None}),
        intruder.delete(f"/api/v1/product-versions/{vid}"),
    ):
        assert_problem(response, 404, "not_found")
    assert intruder.get(f"/api/v1/products/{product['id']}").json == product


def test_a_reader_program_cannot_write_products(api, vendor):
    reader = api(vendor, scopes=("directory:read",))

    response = reader.post(f"/api/v1/members/{vendor.slug}/products", json={"name": "X"})

    assert_problem(response, 403, "insufficient_scope")


def test_delete_a_version_and_a_product(admin, vendor):
    product = _create(
        admin,
        vendor.slug,
        name="Array OS",
        versions=[
            {"version": "5.4", "release_date": "2021-03-01"},
            {"version": "6.0", "release_date": "2024-02-01"},
        ],
    )

    assert (
        admin.delete(f"/api/v1/product-versions/{product['versions'][0]['id']}").status_code == 204
    )
    assert [
        v["version"] for v in admin.get(f"/api/v1/products/{product['id']}").json["versions"]
    ] == ["6.0"]
    assert admin.delete(f"/api/v1/products/{product['id']}").status_code == 204
    assert_problem(admin.get(f"/api/v1/products/{product['id']}"), 404, "not_found")
    assert admin.get(f"/api/v1/members/{vendor.slug}/products").json == []


def test_the_directory_finds_a_member_by_product_name(admin, other, vendor, make_member):
    make_member("bystander", "Bystander Inc")
    _create(admin, vendor.slug, name="HyperArray Replicator")

    def found(q):
        response = other.get("/api/v1/members", query_string={"q": q})
        assert response.status_code == 200, response.get_data(as_text=True)
        return [m["slug"] for m in response.json["items"]]

    assert found("hyperarray") == ["vendor"]
    assert found("ARRAY REPL") == ["vendor"]
    assert found("replicator") == ["vendor"]
    assert found("no such product") == []
    # The product's member appears once, even with several matching products.
    _create(admin, vendor.slug, name="HyperArray OS")
    assert found("hyperarray") == ["vendor"]


@pytest.mark.parametrize("n", [2**31, 2**63, 10**30])
def test_an_id_beyond_the_database_range_is_a_404(admin, n):
    for response in (
        admin.get(f"/api/v1/products/{n}"),
        admin.patch(f"/api/v1/products/{n}", json={"name": "X"}),
        admin.post(f"/api/v1/products/{n}/versions", json={"version": "1"}),
        admin.patch(f"/api/v1/product-versions/{n}", json={"end_of_support_date": None}),
        admin.delete(f"/api/v1/product-versions/{n}"),
    ):
        assert_problem(response, 404, "not_found")
