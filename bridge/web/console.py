"""The console: stores, their recent Amazon orders, an order's details and cancel, and what needs a person.

Server-rendered pages and plain forms (no JavaScript), each form with its CSRF token. A cancel from here is decided
by the same rule as Commerce's hook (``CancelIntake.cancel_at_bridge``) and recorded with the operator's name.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy.exc import SQLAlchemyError

from bridge.deadline import Deadline
from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.locales import DEFAULT_LOCALE
from bridge.domain.operators import may_change_orders
from bridge.domain.sign_in_throttle import client_address
from bridge.domain.states import RequestState, Source, can_retry
from bridge.errors import UpstreamError
from bridge.services.cancel_intake import BridgeCancelOutcome, OrderRef
from bridge.services.console_reads import ConsoleReads
from bridge.services.sign_in import Accounts, SignInOutcome
from bridge.web import console_labels as labels
from bridge.web.api import MAX_REQUEST_ID
from bridge.web.app_services import current_services
from bridge.web.openapi import openapi_document
from bridge.web.sessions import current_user, operator_only, sign_in_as, sign_out, signed_in

PREFIX = "/console"
CANCEL_SECONDS = 10.0  # an operator waits this long for the rule's answer (Amazon read live if the mirror is stale)

log = logging.getLogger("bridge.console")
blueprint = Blueprint(
    "console", __name__, url_prefix=PREFIX, static_folder="static",
    static_url_path="/static",
)  # fmt: skip


@blueprint.record_once
def _set_up(state: BlueprintSetupState) -> None:
    app: Flask = state.app
    app.add_url_rule("/", "console_home", lambda: redirect(url_for("console.stores")))


def _accounts() -> Accounts:
    return current_services().accounts


def _views() -> ConsoleReads:
    return current_services().console


@blueprint.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "user": current_user(),
        "may_change_orders": lambda: bool(current_user()) and may_change_orders(current_user().role),
        "current_locale_tag": lambda: str(get_locale() or DEFAULT_LOCALE).replace("_", "-"),
        "role_label": lambda code: labels.label(labels.ROLES, code),
        "state_label": lambda code: labels.label(labels.REQUEST_STATES, code),
        "timeline_step": labels.timeline_step,
        "reason_label": lambda code: labels.label(labels.CANCEL_REASONS, code),
        "status_label": lambda code: labels.label(labels.AMAZON_STATUSES, code),
        "fulfiller_label": lambda code: labels.label(labels.FULFILLED_BY, code),
        "canceller_label": lambda code: labels.label(labels.CANCELLED_BY, code),
        "source_label": lambda code: labels.label(labels.SOURCES, code),
        "drift_label": lambda code: labels.label(labels.DRIFTS, code),
        "reason_meaning": lambda code: labels.label(labels.REASON_MEANINGS, code),
        "may_retry": can_retry,
        "rejected_guidance": labels.REJECTED_GUIDANCE,
        "when": _when,
        "ago": lambda seconds: format_timedelta(seconds, add_direction=True) if seconds is not None else "-",
    }


def _when(moment: datetime | float | None) -> str:
    """A stored time as people read it, in UTC (the time every log and Seller Central export uses)."""
    if moment is None:
        return "-"
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- signing in ----------------------------------------------------------------------------------------------------
class SignInForm(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token, checked before the view runs

    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    next = fields.String(load_default="")


MAX_NEXT = 2000  # characters: longer than any console page's address


def _plain_console_path(target: str) -> bool:
    """A console page's address as the console itself writes one: printable ASCII without spaces or backslashes
    (which browsers read as slashes), no scheme or host (no open redirect), no dot segments out of the console."""
    if len(target) > MAX_NEXT or not all("!" <= char <= "~" and char != "\\" for char in target):
        return False
    parts = urlsplit(target)
    dot_segments = {".", ".."} & set(unquote(parts.path).split("/"))
    return not (parts.scheme or parts.netloc or dot_segments) and parts.path.startswith(PREFIX + "/")


def _safe_next(target: str) -> str:
    """Where a sign-in leads: its ``next`` (refused before the password is checked unless a plain console path, see
    ``_refuse_a_next_off_the_console``), else the stores."""
    return target if _plain_console_path(target) else url_for("console.stores")


@blueprint.before_request
def _refuse_a_next_off_the_console() -> Response | None:
    """A sign-in that would lead anywhere but a console page (another site, or a newline that would split the
    redirect's headers) is refused before its password is checked: nobody is signed in, and the page offered again
    leads to the stores."""
    target = request.form.get("next", "") if request.endpoint == "console.sign_in_submit" else ""
    if not target or _plain_console_path(target):
        return None
    log.warning("sign-in refused: its next page is not a console page")
    problem = _("This sign-in would lead away from the console, so nobody was signed in. Sign in again here.")
    return Response(render_template("console/sign_in.html", next="", problem=problem), status=400)


@blueprint.get("/sign-in")
def sign_in() -> str:
    return render_template("console/sign_in.html", next=request.args.get("next", ""), problem=None)


@blueprint.post("/sign-in")
def sign_in_submit() -> Any:
    try:
        form = SignInForm().load(request.form.to_dict())
    except ValidationError:
        return _sign_in_page(_("Enter your name and password."), 400)
    forwarded_for = ",".join(request.headers.getlist("X-Forwarded-For"))
    client = client_address(request.remote_addr or "", forwarded_for, current_services().settings.trusted_proxies)
    attempt = _accounts().sign_in(form["name"], form["password"], client)
    # Only an account's own name is logged: a name no account has may be a password typed into the wrong field.
    who = {"user": attempt.account or "unknown name", "client": client}
    if attempt.outcome is SignInOutcome.MUST_WAIT:
        seconds = int(attempt.wait_seconds) + 1
        log.warning("sign-in refused: must wait", extra={**who, "per": attempt.waiting_per, "wait_seconds": seconds})
        response = _sign_in_page(_("Too many failed sign-ins. Try again in %(seconds)d seconds.", seconds=seconds), 429)
        response.headers["Retry-After"] = str(seconds)
        return response
    if attempt.outcome is SignInOutcome.BUSY:
        return _sign_in_page(_("Too many sign-ins at once. Try again in a moment."), 503)
    if attempt.outcome is SignInOutcome.WRONG or attempt.user is None:
        log.info("sign-in failed", extra=who)
        return _sign_in_page(_("Wrong name or password."), 401)
    sign_in_as(attempt.user)
    log.info("signed in", extra={"user": attempt.user.name})
    return redirect(_safe_next(form["next"]))


def _sign_in_page(problem: str, status: int) -> Response:
    page = render_template("console/sign_in.html", next=request.form.get("next", ""), problem=problem)
    return Response(page, status=status)


@blueprint.post("/sign-out")
def sign_out_submit() -> Any:
    """Ends every session of the account, so that a copy of the cookie (a shared computer, a leaked log) opens
    nothing afterwards."""
    user = sign_out()
    if user is not None:
        log.info("signed out: every session of the account ended", extra={"user": user.name})
    return redirect(url_for("console.sign_in"))


# --- pages ---------------------------------------------------------------------------------------------------------
@blueprint.get("/")
@signed_in
def home() -> Any:
    return redirect(url_for("console.stores"))


@blueprint.get("/stores")
@signed_in
def stores() -> str:
    return render_template("console/stores.html", cards=_views().store_cards(), nav="stores")


@blueprint.get("/stores/<code>")
@signed_in
def store(code: str) -> str:
    views = _views()
    found = views.store(code)
    if found is None:
        abort(404, _("No store has the code %(code)s.", code=code))
    search = request.args.get("q", "")[:64]
    return render_template(
        "console/store.html", store=found, rows=views.store_orders(found, search), search=search, nav="stores"
    )


@blueprint.get("/orders/<amazon_order_id>")
@signed_in
def order(amazon_order_id: str) -> str:
    views = _views()
    details = views.order(amazon_order_id)
    if details is None:
        abort(404, _("The bridge has not seen Amazon order %(order)s in any store yet.", order=amazon_order_id))
    comments = views.commerce_comments(details.commerce[0].commerce_entity_id) if details.commerce else None
    return render_template("console/order.html", details=details, comments=comments, nav="stores")


class CancelForm(Schema):
    reason = fields.String(required=True, validate=validate.OneOf([reason.value for reason in CancelReason]))
    confirm = fields.String(required=True, validate=validate.Equal("yes"))


@blueprint.get("/orders/<amazon_order_id>/cancel")
@operator_only
def cancel_form(amazon_order_id: str) -> str:
    details = _views().order(amazon_order_id)
    if details is None or not details.may_cancel:
        abort(404, _("Amazon order %(order)s cannot be canceled from the console.", order=amazon_order_id))
    chosen = (details.suggested_reason or details.reasons[0]).value
    return render_template("console/cancel.html", details=details, chosen=chosen, problem=None, nav="stores")


@blueprint.post("/orders/<amazon_order_id>/cancel")
@operator_only
def cancel_submit(amazon_order_id: str) -> Any:
    user = current_user()
    assert user is not None
    try:
        form = CancelForm().load({key: request.form.get(key, "") for key in ("reason", "confirm")})
    except ValidationError as exc:
        details = _views().order(amazon_order_id)
        if details is None:
            abort(404)
        problem = _("Confirm the cancel.") if "confirm" in exc.messages else _("Choose a reason from the list.")
        chosen = request.form.get("reason", "")
        page = render_template("console/cancel.html", details=details, chosen=chosen, problem=problem, nav="stores")
        return Response(page, status=422)
    try:
        answer = current_services().intake.cancel_at_bridge(
            OrderRef(amazon_order_id=amazon_order_id), CancelReason(form["reason"]), Source.CONSOLE, user.name,
            Deadline(CANCEL_SECONDS), locale=str(get_locale() or DEFAULT_LOCALE),
        )  # fmt: skip
    except (UpstreamError, SQLAlchemyError) as exc:
        log.warning("console cancel could not be checked: %s", exc.__class__.__name__, extra={"user": user.name})
        flash(_("The order could not be checked right now, so nothing was canceled. Try again in a minute."), "error")
        return redirect(url_for("console.order", amazon_order_id=amazon_order_id))
    if answer.outcome is BridgeCancelOutcome.ACCEPTED:
        flash(
            _(
                "Cancel requested with reason %(reason)s. Amazon is told in the next feed; the Commerce order "
                "becomes Complete once Amazon confirms.",
                reason=labels.label(labels.CANCEL_REASONS, form["reason"]),
            ),
            "success",
        )
    else:
        flash(answer.message or answer.decision, "error")
    return redirect(url_for("console.order", amazon_order_id=amazon_order_id))


@blueprint.get("/attention")
@signed_in
def needs_attention() -> str:
    return render_template("console/attention.html", attention=_views().needs_attention(), nav="attention")


@blueprint.post("/requests/<int:request_id>/retry")
@operator_only
def retry(request_id: int) -> Any:
    user = current_user()
    assert user is not None
    requests = current_services().cancel_requests
    found = requests.get(request_id) if request_id <= MAX_REQUEST_ID else None
    retried = requests.retry(request_id, by=user.name) if found is not None else None
    if found is not None and found.state == RequestState.REJECTED:
        flash(_("Request #%(id)d cannot be retried: %(guidance)s", id=request_id, guidance=labels.REJECTED_GUIDANCE),
              "error")  # fmt: skip
    elif retried is None:
        flash(_("Request #%(id)d cannot be retried: it is under way or done.", id=request_id), "error")
    else:
        log.info("request retried from the console", extra={"request": request_id, "user": user.name})
        flash(_("Request #%(id)d starts over: %(state)s.", id=request_id,
                state=labels.label(labels.REQUEST_STATES, retried.state)), "success")  # fmt: skip
    return redirect(url_for("console.needs_attention"))


@blueprint.get("/api")
@signed_in
def api_docs() -> str:
    return render_template("console/api_docs.html", spec=openapi_document(), nav="api")
