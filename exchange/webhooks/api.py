"""REST endpoints for webhook endpoints, their delivery log, replay and pings."""

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from exchange.api_support import page_body
from exchange.auth.actor import current_actor, requires
from exchange.db import transaction
from exchange.webhooks import service
from exchange.webhooks.schemas import (
    DeliveryArgs,
    DeliveryDetailOut,
    DeliveryOut,
    DeliveryPageOut,
    EndpointIn,
    EndpointOut,
    EndpointPatchIn,
    EndpointSecretOut,
    EventTypeOut,
    PingIn,
    RecoverIn,
    RecoverOut,
    RetryIn,
    RotateIn,
)

blp = Blueprint(
    "webhooks_api",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Signed webhooks to your tracker",
)


def _with_secret(endpoint, secret: str):
    # Not a column: the secret exists in clear only in this one answer.
    endpoint.secret = secret
    return endpoint


@blp.route("/event-types")
class EventTypes(MethodView):
    @blp.response(200, EventTypeOut(many=True))
    @requires(None)
    def get(self):
        """Every event type an endpoint can subscribe to."""
        return [{"type": t, "description": d} for t, d in service.EVENT_TYPES.items()]


@blp.route("/endpoints")
class Endpoints(MethodView):
    @blp.response(200, EndpointOut(many=True))
    @requires("webhooks:manage")
    def get(self):
        """Your member's endpoints."""
        return service.list_endpoints(actor=current_actor())

    @blp.arguments(EndpointIn)
    @blp.response(201, EndpointSecretOut)
    @requires("webhooks:manage")
    def post(self, data):
        """Register an endpoint; the answer holds its signing secret, shown this once."""
        with transaction():
            endpoint, secret = service.create_endpoint(actor=current_actor(), **data)
            location = url_for("webhooks_api.EndpointItem", endpoint_id=endpoint.id)
            return _with_secret(endpoint, secret), 201, {"Location": location}


@blp.route("/endpoints/<int:endpoint_id>")
class EndpointItem(MethodView):
    @blp.response(200, EndpointOut)
    @requires("webhooks:manage")
    def get(self, endpoint_id):
        return service.get_endpoint(actor=current_actor(), endpoint_id=endpoint_id)

    @blp.arguments(EndpointPatchIn)
    @blp.response(200, EndpointOut)
    @requires("webhooks:manage")
    def patch(self, changes, endpoint_id):
        """Change an endpoint; enabling a disabled one resumes what is pending."""
        actor = current_actor()
        with transaction():
            endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
            return service.update_endpoint(actor=actor, endpoint=endpoint, changes=changes)

    @blp.response(204)
    @requires("webhooks:manage")
    def delete(self, endpoint_id):
        """Remove an endpoint; its pending deliveries are given up."""
        actor = current_actor()
        with transaction():
            endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
            service.delete_endpoint(actor=actor, endpoint=endpoint)


@blp.route("/endpoints/<int:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @blp.arguments(RotateIn)
    @blp.response(200, EndpointSecretOut)
    @requires("webhooks:manage")
    def post(self, data, endpoint_id):
        """A new secret (shown once); the old one also signs for the grace period."""
        actor = current_actor()
        with transaction():
            endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
            secret = service.rotate_secret(
                actor=actor, endpoint=endpoint, grace_seconds=data.get("grace_seconds")
            )
            return _with_secret(endpoint, secret)


@blp.route("/endpoints/<int:endpoint_id>/ping")
class Ping(MethodView):
    @blp.arguments(PingIn, required=False)
    @blp.response(202, DeliveryOut)
    @requires("webhooks:manage")
    def post(self, _data, endpoint_id):
        """Queue a `ping` message to the endpoint."""
        actor = current_actor()
        with transaction():
            endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
            return service.ping(actor=actor, endpoint=endpoint)


@blp.route("/endpoints/<int:endpoint_id>/deliveries")
class EndpointDeliveries(MethodView):
    @blp.arguments(DeliveryArgs, location="query")
    @blp.response(200, DeliveryPageOut)
    @requires("webhooks:manage")
    def get(self, args, endpoint_id):
        """The delivery log, newest first; filter by `status`."""
        actor = current_actor()
        endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
        page = service.list_deliveries(actor=actor, endpoint=endpoint, **args)
        return page_body(page, "webhooks_api.EndpointDeliveries", endpoint_id=endpoint_id)


@blp.route("/endpoints/<int:endpoint_id>/recover")
class Recover(MethodView):
    @blp.arguments(RecoverIn)
    @blp.response(202, RecoverOut)
    @requires("webhooks:manage")
    def post(self, data, endpoint_id):
        """Re-queue every failed delivery since `since` (at most 10,000)."""
        actor = current_actor()
        with transaction():
            endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
            return {
                "requeued": service.recover(actor=actor, endpoint=endpoint, since=data["since"])
            }


@blp.route("/deliveries/<int:delivery_id>")
class DeliveryItem(MethodView):
    @blp.response(200, DeliveryDetailOut)
    @requires("webhooks:manage")
    def get(self, delivery_id):
        """One delivery with its exact payload and every attempt."""
        delivery = service.get_delivery(actor=current_actor(), delivery_id=delivery_id)
        delivery.attempt_log = service.attempts_of(delivery)
        return delivery


@blp.route("/deliveries/<int:delivery_id>/retry")
class RetryDelivery(MethodView):
    @blp.arguments(RetryIn, required=False)
    @blp.response(202, DeliveryOut)
    @requires("webhooks:manage")
    def post(self, _data, delivery_id):
        """Send a delivery again with the same `webhook-id`, on a fresh retry schedule."""
        actor = current_actor()
        with transaction():
            delivery = service.get_delivery(actor=actor, delivery_id=delivery_id)
            return service.retry_delivery(actor=actor, delivery=delivery)
