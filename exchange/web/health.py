"""Liveness and readiness probes for load balancers and orchestrators."""

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from exchange.db import db
from exchange.errors import Problem

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """The database is reachable; a load balancer should send no traffic otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        raise Problem("The database is not reachable.", code="service_unavailable") from exc
    return jsonify(status="ready")
