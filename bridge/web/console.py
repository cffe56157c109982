"""The console: stores, their recent Amazon orders, an order's details and cancel, and what needs a person.

Server-rendered pages and plain forms (no JavaScript), each form with its CSRF token. A cancel from here is decided
by the same rule as Commerce's hook (``CancelIntake.cancel_at_bridge``) and recorded with the operator's name.
"""

from __future__ import annotations

import logging
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
from bridge.domain.amazon_order import FulfillmentStatus
from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.locales import DEFAULT_LOCALE
from bridge.domain.marketplaces import marketplace_name
from bridge.domain.messages import MessageKey
from bridge.domain.operators import may_change_orders
from bridge.domain.sign_in_throttle import client_address
from bridge.domain.states import CancelStanding, RequestState, Source, can_retry
from bridge.errors import UpstreamError
from bridge.services.cancel_intake import BridgeCancelAnswer, BridgeCancelOutcome, OrderRef
from bridge.services.console_reads import ConsoleReads, OrderDetails
from bridge.services.sign_in import Accounts, SignInOutcome
from bridge.storage.order_list import OrderFilter
from bridge.web import console_labels as labels
from bridge.web.api import MAX_REQUEST_ID
from bridge.web.app_services import current_services
from bridge.web.openapi import openapi_document
from bridge.web.sessions import current_user, operator_only, sign_in_as, sign_out, signed_in

PREFIX = "/console"
CANCEL_SECONDS = 10.0  # an operator waits this long for the rule's answer (Amazon read live if the mirror is stale)
FOLLOW_SECONDS = 5  # an order page reloads itself this often while a cancel of the order is under way

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
        "commerce_state_label": lambda code: labels.label(labels.COMMERCE_STATES, code),
        "feed_status_label": lambda code: labels.label(labels.FEED_PROCESSING, code),
        "feed_state_label": lambda code: labels.label(labels.FEED_STATES, code),
        "recorded": labels.recorded,
        "amazon_answer": labels.amazon_answer,
        "may_retry": can_retry,
        "rejected_guidance": labels.REJECTED_GUIDANCE,
        "when": labels.when,
        "store_title": _store_title,
        "when_text": labels.when_text,
        "ago": lambda seconds: format_timedelta(seconds, add_direction=True) if seconds is not None else "-",
    }


def _store_title(code: str) -> str:
    """A store as sellers name it (its marketplace, "Amazon.com"); its code once it left the stores file."""
    store = _views().store(code)
    return marketplace_name(store.marketplace_id) if store else code


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


PAGE_SIZES = (25, 50, 100)  # orders a page of a store's list, the seller's choice
DEFAULT_PAGE_SIZE = 50
MAX_SEARCH = 64  # characters: longer than any Amazon order id or Commerce order number


class OrderListArgs(Schema):
    """A store's order list as its address asks for it: the search, the two filters, the page and its size. A
    value the page does not offer is refused (400, saying which), never quietly read as something else; a page past
    the last shows the last."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=MAX_SEARCH))
    status = fields.String(load_default="", validate=validate.OneOf(["", *FulfillmentStatus]))
    cancel = fields.String(load_default="", validate=validate.OneOf(["", *CancelStanding]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))
    size = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.OneOf(PAGE_SIZES))


def _order_list_refusal(fields_wrong: list[str]) -> str:
    """What was wrong with the list's address, in the user's language (marshmallow's own words are English)."""
    said = {
        "q": _("a search is at most %(count)d characters", count=MAX_SEARCH),
        "status": _("the Amazon status must be one of those the list offers"),
        "cancel": _("the cancel filter must be one of those the list offers"),
        "page": _("the page must be a whole number of 1 or more"),
        "size": _("the page size must be 25, 50 or 100"),
    }
    return _("This list cannot be shown: %(problems)s.", problems="; ".join(said[f] for f in sorted(fields_wrong)))


def _cancel_standings() -> dict[str, str]:
    return {
        CancelStanding.NONE: _("No cancel"),
        CancelStanding.UNDER_WAY: _("Cancel under way"),
        CancelStanding.COMPLETED: _("Canceled"),
        CancelStanding.NEEDS_ATTENTION: _("Needs attention"),
    }


@blueprint.get("/stores/<code>")
@signed_in
def store(code: str) -> str | tuple[str, int]:
    views = _views()
    found = views.store(code)
    if found is None:
        abort(404, _("No store has the code %(code)s.", code=code))
    try:
        args = OrderListArgs().load(request.args)
    except ValidationError as exc:
        refusal = _order_list_refusal(list(exc.messages_dict))
        return render_template("console/error.html", code=400, refusal=refusal), 400
    search = args["q"].strip().lstrip("#").strip()
    wanted = OrderFilter(found.code, args["status"] or None, CancelStanding(args["cancel"]) if args["cancel"] else None,
                         search)  # fmt: skip
    listing = views.store_orders(wanted, args["page"], args["size"])
    # What the page's links keep: the search, the filters and the page size, when not the defaults.
    kept = {"q": search, "status": args["status"], "cancel": args["cancel"]}
    kept = {name: value for name, value in kept.items() if value}
    if args["size"] != DEFAULT_PAGE_SIZE:
        kept["size"] = args["size"]
    return render_template(
        "console/store.html", store=found, marketplace=marketplace_name(found.marketplace_id), listing=listing,
        search=search, status=args["status"], cancel=args["cancel"], size=args["size"], kept=kept,
        filtering=bool(search or wanted.status or wanted.standing), statuses=list(FulfillmentStatus),
        standings=_cancel_standings(), sizes=PAGE_SIZES, nav="stores", marketplace_id=found.marketplace_id,
        show_all=url_for("console.store", code=found.code, **{n: v for n, v in kept.items() if n == "size"}),
    )  # fmt: skip


@blueprint.get("/orders/<amazon_order_id>")
@signed_in
def order(amazon_order_id: str) -> str:
    views = _views()
    details = views.order(amazon_order_id)
    if details is None:
        abort(404, _("The bridge has not seen Amazon order %(order)s in any store yet.", order=amazon_order_id))
    comments = views.commerce_comments(details.commerce[0].commerce_entity_id) if details.commerce else None
    why_not = None
    if details.why_not is not None:
        link = details.commerce[0] if details.commerce else None
        why_not = labels.why_no_cancel(
            details.why_not, amazon_order_id=details.order.order_id,
            order_ref=f"#{link.increment_id or link.commerce_entity_id}" if link else None,
            amazon_status=details.order.status, commerce_state=link.commerce_state if link else None,
            request=details.request,
        )  # fmt: skip
    return render_template(
        "console/order.html", details=details, comments=comments, why_not=why_not, nav="stores",
        marketplace_id=_marketplace_of(details), follow_seconds=FOLLOW_SECONDS if details.cancel_under_way else None,
    )  # fmt: skip


def _marketplace_of(details: OrderDetails) -> str | None:
    """The marketplace whose time the order's page shows: the order's own, else its store's."""
    return details.order.marketplace_id or (details.store.marketplace_id if details.store else None)


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
        flash(_refused(answer, amazon_order_id), "error")
    return redirect(url_for("console.order", amazon_order_id=amazon_order_id))


def _refused(answer: BridgeCancelAnswer, amazon_order_id: str) -> str:
    """The intake's refusal in the user's language, with the states in it in words (the intake writes their codes,
    as Commerce's admin reads them)."""
    if answer.request is not None:
        key = (
            MessageKey.ALREADY_COMPLETED
            if answer.outcome is BridgeCancelOutcome.ALREADY_COMPLETED
            else MessageKey.CANCEL_UNDER_WAY
        )
        return labels.message(
            key, amazon_order_id=amazon_order_id, request_state=answer.request.state, request_id=str(answer.request.id)
        )
    if answer.decision not in set(MessageKey):
        return answer.message or answer.decision
    details = _views().order(amazon_order_id)
    link = details.commerce[0] if details and details.commerce else None
    return labels.message(
        MessageKey(answer.decision), amazon_order_id=amazon_order_id,
        order_ref=f"#{link.increment_id or link.commerce_entity_id}" if link else amazon_order_id,
        amazon_status=details.order.status if details else None, commerce_state=answer.commerce_state,
    )  # fmt: skip


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
