"""API shapes for members, users and the caller's own identity."""

from marshmallow import Schema, fields, validate

from exchange.members.models import NOTIFICATION_DEFAULTS, MemberTier, Role
from exchange.schemas import ListArgs, page_schema, patch_schema
from exchange.text import Email, Line

ROLE_CHOICES = [r.value for r in Role]


class SupportContactOut(Schema):
    name = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    phone = fields.Str(allow_none=True)


class MemberOut(Schema):
    slug = fields.Str()
    name = fields.Str()
    tier = fields.Str()
    status = fields.Str()
    description = fields.Str()
    website = fields.Str(allow_none=True)
    email_domains = fields.List(fields.Str())
    support_contact = fields.Nested(SupportContactOut, allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


MemberPageOut = page_schema(MemberOut, "MemberPage")


class MemberSearchArgs(ListArgs):
    q = fields.Str(
        validate=validate.Length(max=200),
        metadata={"description": "Part of a member's name or slug."},
    )


class MemberPatchIn(Schema):
    name = Line(min=1, max=200)
    description = fields.Str(validate=validate.Length(max=5000))
    website = fields.Url(allow_none=True, schemes={"http", "https"})
    email_domains = fields.List(Line(min=3, max=253))
    support_contact_name = Line(allow_none=True, max=200)
    support_contact_email = Email(allow_none=True)
    support_contact_phone = Line(allow_none=True, max=50)


class MemberRefOut(Schema):
    slug = fields.Str()
    name = fields.Str()


class UserOut(Schema):
    id = fields.Int()
    email = fields.Str()
    name = fields.Str()
    phone = fields.Str(allow_none=True)
    time_zone = fields.Str()
    roles = fields.List(fields.Str())
    active = fields.Bool()
    member = fields.Pluck(MemberRefOut, "slug")
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)
    notifications = fields.Function(
        lambda u: u.notification_settings(),
        metadata={"description": "What the person is mailed about, by kind."},
    )


class UserIn(Schema):
    email = Email(required=True)
    name = Line(required=True, min=1, max=200)
    phone = Line(allow_none=True, max=50)
    time_zone = Line(load_default="UTC", max=64)
    roles = fields.List(fields.Str(validate=validate.OneOf(ROLE_CHOICES)), load_default=list)
    password = fields.Str(
        load_only=True,
        validate=validate.Length(max=200),
        metadata={
            "description": "At least 12 characters, not a common password, not the "
            "person's e-mail or name (docs/security.md)."
        },
    )


class UserPatchIn(Schema):
    name = Line(min=1, max=200)
    phone = Line(allow_none=True, max=50)
    time_zone = Line(max=64)
    roles = fields.List(fields.Str(validate=validate.OneOf(ROLE_CHOICES)))
    active = fields.Bool()
    notifications = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(list(NOTIFICATION_DEFAULTS))),
        values=fields.Bool(),
        metadata={"description": "Kinds to switch on or off: " + ", ".join(NOTIFICATION_DEFAULTS)},
    )


class ClientRefOut(Schema):
    client_id = fields.Str()
    name = fields.Str()


class MeOut(Schema):
    member = fields.Nested(MemberOut)
    scopes = fields.List(fields.Str())
    user = fields.Nested(UserOut, allow_none=True)
    client = fields.Nested(ClientRefOut, allow_none=True)


TIER_CHOICES = [t.value for t in MemberTier]


class CommunityIn(Schema):
    slug = Line(required=True, min=1, max=40)
    name = Line(required=True, min=1, max=200)
    description = fields.Str(load_default="", validate=validate.Length(max=2000))


class CommunityMemberOut(Schema):
    member = fields.Function(lambda m: m.member.slug)
    name = fields.Function(lambda m: m.member.name)
    status = fields.Str()
    invited_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)


class CommunityOut(Schema):
    slug = fields.Str()
    name = fields.Str()
    description = fields.Str()
    owner = fields.Function(lambda c: c.owner.slug)
    created_at = fields.DateTime()
    members = fields.List(fields.Nested(CommunityMemberOut), attribute="memberships")


class InvitationIn(Schema):
    member = Line(required=True, min=1, max=40)


class ProductVersionIn(Schema):
    version = Line(required=True, min=1, max=50)
    release_date = fields.Date(load_default=None, allow_none=True)
    end_of_support_date = fields.Date(load_default=None, allow_none=True)


class ProductIn(Schema):
    name = Line(required=True, min=1, max=200)
    description = fields.Str(load_default="", validate=validate.Length(max=5000))
    versions = fields.List(fields.Nested(ProductVersionIn), load_default=list)


class ProductPatchIn(Schema):
    name = Line(min=1, max=200)
    description = fields.Str(validate=validate.Length(max=5000))


class ProductVersionOut(Schema):
    id = fields.Int()
    version = fields.Str()
    release_date = fields.Date(allow_none=True)
    end_of_support_date = fields.Date(allow_none=True)
    status = fields.Str(
        metadata={
            "description": "`supported` or `obsolete` (derived from the end-of-support date)."
        }
    )


class ProductOut(Schema):
    id = fields.Int()
    member = fields.Str()
    name = fields.Str()
    description = fields.Str()
    versions = fields.List(fields.Nested(ProductVersionOut))
    warnings = fields.List(fields.Str())


class ProductArgs(Schema):
    status = fields.Str(validate=validate.OneOf(["supported", "obsolete"]))


ProductVersionPatchIn = patch_schema(ProductVersionIn, "ProductVersionPatchIn")
