"""What the Commerce admin reads when the bridge stops a cancel, and the audit comments, in en_US and it_IT.

Every message names the Amazon order and says what to do instead. Italian wording follows Adobe's Italian
Amazon Sales Channel guide ("Annullare un ordine non spedito").
"""

from __future__ import annotations

import re
from enum import StrEnum

# Result codes the bridge records itself for a request it did not send (Amazon's own codes are numbers).
STATUS_CHANGED = "StatusChanged"  # Amazon's status changed; the result description holds the new one
AMAZON_FULFILLED = "AmazonFulfilled"
REFUSED_BY_RULE = "RefusedByRule"  # the rule refused at the last look before sending; the description holds which


class MessageKey(StrEnum):
    STORE_NOT_CONFIGURED = "store_not_configured"
    ORDER_IMPORT_OFF = "order_import_off"
    AMAZON_FULFILLED = "amazon_fulfilled"
    PENDING = "pending"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    NOT_CANCELABLE = "not_cancelable"
    NOT_FOUND_AT_AMAZON = "not_found_at_amazon"
    STATUS_UNCONFIRMED = "status_unconfirmed"
    BRIDGE_UNAVAILABLE = "bridge_unavailable"
    AUDIT_CANCELED_AT_AMAZON = "audit_canceled_at_amazon"
    AUDIT_ALREADY_CANCELED = "audit_already_canceled"
    AUDIT_REJECTED = "audit_rejected"
    AUDIT_NOT_SENT = "audit_not_sent"
    AUDIT_CANCELED_OUTSIDE = "audit_canceled_outside"
    AUDIT_CANCELED_OUTSIDE_COMMENT_ONLY = "audit_canceled_outside_comment_only"
    AUDIT_CANCELED_ON_BUYER_REQUEST = "audit_canceled_on_buyer_request"
    AUDIT_BUYER_REQUESTED = "audit_buyer_requested"
    CANCELED_BY_BUYER = "canceled_by_buyer"
    CANCELED_BY_SELLER = "canceled_by_seller"
    CANCELED_BY_AMAZON = "canceled_by_amazon"
    NO_REASON_GIVEN = "no_reason_given"
    ORDER_NOT_KNOWN = "order_not_known"
    ORDER_NUMBER_AMBIGUOUS = "order_number_ambiguous"
    NOT_AN_AMAZON_ORDER = "not_an_amazon_order"
    CANCEL_UNDER_WAY = "cancel_under_way"
    AUDIT_CANCELED_BY_OPERATOR = "audit_canceled_by_operator"
    COMMERCE_ON_HOLD = "commerce_on_hold"
    COMMERCE_PAYMENT_REVIEW = "commerce_payment_review"
    COMMERCE_CLOSED = "commerce_closed"
    COMMERCE_CANCELED = "commerce_canceled"
    COMMERCE_COMPLETE = "commerce_complete"
    COMMERCE_NOT_CANCELABLE = "commerce_not_cancelable"
    REASON_NOT_ALLOWED = "reason_not_allowed"
    ALREADY_COMPLETED = "already_completed"
    AUDIT_NOT_SENT_BY_RULE = "audit_not_sent_by_rule"
    AUDIT_CANCELED_LEFT_AS_IS = "audit_canceled_left_as_is"
    # What stopped or delays a request, as recorded in its last_error (in en_US; the console shows it translated)
    PROBLEM_COMMERCE_REFUSED = "problem_commerce_refused"
    PROBLEM_COMMERCE_NEVER_CANCELED = "problem_commerce_never_canceled"
    PROBLEM_COMMERCE_NOT_YET = "problem_commerce_not_yet"
    PROBLEM_COMMERCE_READ = "problem_commerce_read"
    PROBLEM_COMMERCE_WRITE_BACK = "problem_commerce_write_back"
    PROBLEM_NEVER_READ_CANCELLED = "problem_never_read_cancelled"
    PROBLEM_STORE_GONE = "problem_store_gone"
    PROBLEM_CANCELED_BY_ANOTHER = "problem_canceled_by_another"
    PROBLEM_DUPLICATE_REQUEST = "problem_duplicate_request"
    PROBLEM_MESSAGE_NOT_BUILT = "problem_message_not_built"
    PROBLEM_FEED_DOCUMENT = "problem_feed_document"
    PROBLEM_CREATE_FEED = "problem_create_feed"
    PROBLEM_STOPPED_BEFORE_SENDING = "problem_stopped_before_sending"
    PROBLEM_FEED_NOT_CREATED = "problem_feed_not_created"
    PROBLEM_FEED_ENDED = "problem_feed_ended"
    PROBLEM_REPORT_UNREADABLE = "problem_report_unreadable"


_CATALOG: dict[str, dict[MessageKey, str]] = {
    "en_US": {
        MessageKey.STORE_NOT_CONFIGURED: (
            "Amazon order {amazon_order_id} belongs to an Amazon store that is not set up in the cancel bridge. "
            "Cancel it in Amazon Seller Central."
        ),
        MessageKey.ORDER_IMPORT_OFF: (
            "Order import is off for the Amazon store of order {amazon_order_id}: manage this order in "
            "Amazon Seller Central."
        ),
        MessageKey.AMAZON_FULFILLED: (
            "Amazon order {amazon_order_id} is fulfilled by Amazon: it can only be canceled in Amazon Seller Central."
        ),
        MessageKey.PENDING: (
            "Amazon order {amazon_order_id} is Pending: it can only be canceled in Amazon Seller Central."
        ),
        MessageKey.PARTIALLY_SHIPPED: (
            "Amazon order {amazon_order_id} is Partially Shipped: it can only be canceled in Amazon Seller Central."
        ),
        MessageKey.SHIPPED: (
            "Amazon order {amazon_order_id} has already shipped and cannot be canceled: handle returns and "
            "exchanges in Amazon Seller Central."
        ),
        MessageKey.NOT_CANCELABLE: (
            "Amazon order {amazon_order_id} is {amazon_status} at Amazon and cannot be canceled from Commerce: "
            "cancel it in Amazon Seller Central."
        ),
        MessageKey.NOT_FOUND_AT_AMAZON: (
            "Amazon order {amazon_order_id} was not found in its Amazon store. Check the order in Amazon Seller "
            "Central and cancel it there."
        ),
        MessageKey.STATUS_UNCONFIRMED: (
            "The status of Amazon order {amazon_order_id} could not be confirmed with Amazon right now, so the "
            "order was not canceled. Try again in a few minutes."
        ),
        MessageKey.BRIDGE_UNAVAILABLE: (
            "Order {order_ref} could not be checked by the Amazon cancel bridge right now, so it was not "
            "canceled. Try again in a few minutes; if this keeps happening, ask your administrator to run "
            "'bridge doctor'."
        ),
        MessageKey.AUDIT_CANCELED_AT_AMAZON: (
            "Amazon order {amazon_order_id} was canceled at Amazon (reason: {reason}; feed {feed_id}); Amazon "
            "notifies the buyer. The cancel bridge set this order to Complete."
        ),
        MessageKey.AUDIT_ALREADY_CANCELED: (
            "Amazon order {amazon_order_id} was already canceled at Amazon, so no cancel was sent. The cancel bridge "
            "set this order to Complete."
        ),
        MessageKey.AUDIT_REJECTED: (
            "Amazon did not cancel order {amazon_order_id}: {answer}. This order was not set to Complete. Check the "
            "order in Amazon Seller Central and handle it there."
        ),
        MessageKey.AUDIT_NOT_SENT: (
            "The cancel of Amazon order {amazon_order_id} was not sent: at Amazon the order is now {amazon_status}. "
            "This order was not set to Complete. Handle it in Amazon Seller Central."
        ),
        MessageKey.AUDIT_CANCELED_OUTSIDE: (
            "Amazon order {amazon_order_id} was canceled at Amazon by {canceled_by} (reason: {reason}). The cancel "
            "bridge set this order to Complete."
        ),
        MessageKey.AUDIT_CANCELED_OUTSIDE_COMMENT_ONLY: (
            "Amazon order {amazon_order_id} was canceled at Amazon by {canceled_by} (reason: {reason}). The cancel "
            "bridge left this order as it is: close it in Commerce."
        ),
        MessageKey.AUDIT_CANCELED_ON_BUYER_REQUEST: (
            "Amazon order {amazon_order_id} was canceled at Amazon at the buyer's request (reason: BuyerCanceled; "
            "feed {feed_id}); Amazon notifies the buyer. The cancel bridge set this order to Complete."
        ),
        MessageKey.AUDIT_BUYER_REQUESTED: (
            "The buyer asked Amazon to cancel order {amazon_order_id} (reason: {reason}). Canceling this order in "
            "Commerce now sends the cancel to Amazon as BuyerCanceled, which does not count toward your "
            "Cancellation Rate; if you ship it instead, tell the buyer in Amazon Seller Central."
        ),
        MessageKey.CANCELED_BY_BUYER: "the buyer",
        MessageKey.CANCELED_BY_SELLER: "the seller in Seller Central",
        MessageKey.CANCELED_BY_AMAZON: "Amazon",
        MessageKey.NO_REASON_GIVEN: "none given",
        MessageKey.ORDER_NOT_KNOWN: (
            "Order {order_ref} is not known to the cancel bridge: check the number; an order imported in the last "
            "few minutes may not have reached the bridge yet."
        ),
        MessageKey.NOT_AN_AMAZON_ORDER: (
            "Commerce order {order_ref} was not imported from Amazon: cancel it in Commerce."
        ),
        MessageKey.ORDER_NUMBER_AMBIGUOUS: (
            "More than one Commerce order has the number {order_ref} (websites numbering their orders alike): name "
            "the order by its Amazon order id instead."
        ),
        MessageKey.CANCEL_UNDER_WAY: (
            "A cancel of Amazon order {amazon_order_id} is already {request_state} (request #{request_id}): "
            "nothing more to do."
        ),
        MessageKey.AUDIT_CANCELED_BY_OPERATOR: (
            "Amazon order {amazon_order_id} was canceled at Amazon by {actor} through the cancel bridge's {source} "
            "(reason: {reason}; feed {feed_id}); Amazon notifies the buyer. The cancel bridge set this order to "
            "Complete."
        ),
        MessageKey.COMMERCE_ON_HOLD: (
            "Commerce order {order_ref} is on hold, so Amazon order {amazon_order_id} was not canceled: release the "
            "hold in Commerce first (a hold is often a fraud review), then cancel again; or manage the order in "
            "Amazon Seller Central."
        ),
        MessageKey.COMMERCE_PAYMENT_REVIEW: (
            "Commerce order {order_ref} is in payment review, so Amazon order {amazon_order_id} was not canceled: "
            "accept or deny the payment in Commerce first, then cancel again; or manage the order in Amazon Seller "
            "Central."
        ),
        MessageKey.COMMERCE_CLOSED: (
            "Commerce order {order_ref} is closed (refunded), so Commerce cannot cancel it and Amazon order "
            "{amazon_order_id} was not canceled: manage the order in Amazon Seller Central."
        ),
        MessageKey.COMMERCE_CANCELED: (
            "Commerce order {order_ref} is already canceled in Commerce, so the bridge did not cancel Amazon order "
            "{amazon_order_id}: check the order in Amazon Seller Central and cancel it there if it is still open."
        ),
        MessageKey.COMMERCE_COMPLETE: (
            "Commerce order {order_ref} is Complete, so Commerce cannot cancel it and Amazon order {amazon_order_id} "
            "was not canceled: manage the order in Amazon Seller Central."
        ),
        MessageKey.COMMERCE_NOT_CANCELABLE: (
            "Commerce order {order_ref} is {commerce_state}, which Commerce cannot cancel, so Amazon order "
            "{amazon_order_id} was not canceled: check the order in Commerce, or manage it in Amazon Seller Central."
        ),
        MessageKey.REASON_NOT_ALLOWED: (
            "The buyer has not asked Amazon to cancel order {amazon_order_id}, so it cannot be canceled as "
            "BuyerCanceled (that would keep a seller's cancel out of your Cancellation Rate): choose another reason."
        ),
        MessageKey.ALREADY_COMPLETED: (
            "Amazon order {amazon_order_id} has already been canceled through the cancel bridge (request "
            "#{request_id}): nothing more to do."
        ),
        MessageKey.AUDIT_NOT_SENT_BY_RULE: (
            "The cancel bridge did not send the cancel of Amazon order {amazon_order_id}. {why} This order was not "
            "set to Complete."
        ),
        MessageKey.AUDIT_CANCELED_LEFT_AS_IS: (
            "Amazon order {amazon_order_id} is canceled at Amazon. This order is {commerce_state} in Commerce, which "
            "the cancel bridge does not overwrite: it left the order as it is. Check it in Commerce."
        ),
        MessageKey.PROBLEM_COMMERCE_REFUSED: "Commerce did not cancel the order",
        MessageKey.PROBLEM_COMMERCE_NEVER_CANCELED: (
            "Commerce did not cancel the order: it still reads {commerce_state} after {seconds} s"
        ),
        MessageKey.PROBLEM_COMMERCE_NOT_YET: "Commerce order reads {commerce_state}; looking again",
        MessageKey.PROBLEM_COMMERCE_READ: "Commerce read: {error}",
        MessageKey.PROBLEM_COMMERCE_WRITE_BACK: "Commerce write-back: {error}",
        MessageKey.PROBLEM_NEVER_READ_CANCELLED: "Amazon accepted the cancel but the order still reads {amazon_status}",
        MessageKey.PROBLEM_STORE_GONE: "store '{store_code}' is no longer in the stores file",
        MessageKey.PROBLEM_CANCELED_BY_ANOTHER: (
            "Amazon order {amazon_order_id} is being canceled by another request; waiting for it"
        ),
        MessageKey.PROBLEM_DUPLICATE_REQUEST: "Amazon order {amazon_order_id} is also cancel request {request_id}",
        MessageKey.PROBLEM_MESSAGE_NOT_BUILT: "the cancel message cannot be built: {error}",
        MessageKey.PROBLEM_FEED_DOCUMENT: "feed document: {error}",
        MessageKey.PROBLEM_CREATE_FEED: "createFeed: {error}",
        MessageKey.PROBLEM_STOPPED_BEFORE_SENDING: "the worker stopped before createFeed; nothing was sent",
        MessageKey.PROBLEM_FEED_NOT_CREATED: "createFeed did not reach Amazon; the requests are checked and sent again",
        MessageKey.PROBLEM_FEED_ENDED: "feed {feed_id} ended {processing_status}",
        MessageKey.PROBLEM_REPORT_UNREADABLE: "report unreadable",
    },
    "it_IT": {
        MessageKey.STORE_NOT_CONFIGURED: (
            "L'ordine Amazon {amazon_order_id} appartiene a un negozio Amazon non configurato nel bridge di "
            "annullamento. Annullalo nel tuo account Amazon Seller Central."
        ),
        MessageKey.ORDER_IMPORT_OFF: (
            "L'importazione degli ordini è disattivata per il negozio Amazon dell'ordine {amazon_order_id}: "
            "gestisci questo ordine nel tuo account Amazon Seller Central."
        ),
        MessageKey.AMAZON_FULFILLED: (
            "L'ordine Amazon {amazon_order_id} è evaso da Amazon: può essere annullato solo tramite il tuo "
            "account Amazon Seller Central."
        ),
        MessageKey.PENDING: (
            "L'ordine Amazon {amazon_order_id} è in sospeso: può essere annullato solo tramite il tuo account "
            "Amazon Seller Central."
        ),
        MessageKey.PARTIALLY_SHIPPED: (
            "L'ordine Amazon {amazon_order_id} è parzialmente spedito: può essere annullato solo tramite il tuo "
            "account Amazon Seller Central."
        ),
        MessageKey.SHIPPED: (
            "L'ordine Amazon {amazon_order_id} è già stato spedito e non può essere annullato: i resi e gli "
            "scambi devono essere gestiti nel tuo account Amazon Seller Central."
        ),
        MessageKey.NOT_CANCELABLE: (
            "L'ordine Amazon {amazon_order_id} è nello stato {amazon_status} su Amazon e non può essere annullato "
            "da Commerce: annullalo nel tuo account Amazon Seller Central."
        ),
        MessageKey.NOT_FOUND_AT_AMAZON: (
            "L'ordine Amazon {amazon_order_id} non è stato trovato nel suo negozio Amazon. Verifica l'ordine nel "
            "tuo account Amazon Seller Central e annullalo lì."
        ),
        MessageKey.STATUS_UNCONFIRMED: (
            "Non è stato possibile confermare ora con Amazon lo stato dell'ordine {amazon_order_id}, quindi "
            "l'ordine non è stato annullato. Riprova tra qualche minuto."
        ),
        MessageKey.BRIDGE_UNAVAILABLE: (
            "Non è stato possibile verificare ora l'ordine {order_ref} tramite il bridge di annullamento Amazon, "
            "quindi l'ordine non è stato annullato. Riprova tra qualche minuto; se il problema persiste, chiedi "
            "all'amministratore di eseguire 'bridge doctor'."
        ),
        MessageKey.AUDIT_CANCELED_AT_AMAZON: (
            "L'ordine Amazon {amazon_order_id} è stato annullato su Amazon (motivo: {reason}; feed {feed_id}); Amazon "
            "avvisa l'acquirente. Il bridge di annullamento ha impostato questo ordine su Completo."
        ),
        MessageKey.AUDIT_ALREADY_CANCELED: (
            "L'ordine Amazon {amazon_order_id} era già annullato su Amazon, quindi non è stato inviato alcun "
            "annullamento. Il bridge di annullamento ha impostato questo ordine su Completo."
        ),
        MessageKey.AUDIT_REJECTED: (
            "Amazon non ha annullato l'ordine {amazon_order_id}: {answer}. Questo ordine non è stato impostato su "
            "Completo. Verifica l'ordine nel tuo account Amazon Seller Central e gestiscilo lì."
        ),
        MessageKey.AUDIT_NOT_SENT: (
            "L'annullamento dell'ordine Amazon {amazon_order_id} non è stato inviato: su Amazon l'ordine ora è nello "
            "stato {amazon_status}. Questo ordine non è stato impostato su Completo. Gestiscilo nel tuo account "
            "Amazon Seller Central."
        ),
        MessageKey.AUDIT_CANCELED_OUTSIDE: (
            "L'ordine Amazon {amazon_order_id} è stato annullato su Amazon {canceled_by} (motivo: {reason}). Il bridge "
            "di annullamento ha impostato questo ordine su Completo."
        ),
        MessageKey.AUDIT_CANCELED_OUTSIDE_COMMENT_ONLY: (
            "L'ordine Amazon {amazon_order_id} è stato annullato su Amazon {canceled_by} (motivo: {reason}). Il bridge "
            "di annullamento non ha modificato questo ordine: chiudilo in Commerce."
        ),
        MessageKey.AUDIT_CANCELED_ON_BUYER_REQUEST: (
            "L'ordine Amazon {amazon_order_id} è stato annullato su Amazon su richiesta dell'acquirente (motivo: "
            "BuyerCanceled; feed {feed_id}); Amazon avvisa l'acquirente. Il bridge di annullamento ha impostato questo "
            "ordine su Completo."
        ),
        MessageKey.AUDIT_BUYER_REQUESTED: (
            "L'acquirente ha chiesto ad Amazon di annullare l'ordine {amazon_order_id} (motivo: {reason}). Se annulli "
            "ora questo ordine in Commerce, l'annullamento viene inviato ad Amazon come BuyerCanceled, che non conta "
            "nel tasso di annullamento; se invece lo spedisci, avvisa l'acquirente nel tuo account Amazon Seller "
            "Central."
        ),
        MessageKey.CANCELED_BY_BUYER: "dall'acquirente",
        MessageKey.CANCELED_BY_SELLER: "dal venditore in Seller Central",
        MessageKey.CANCELED_BY_AMAZON: "da Amazon",
        MessageKey.NO_REASON_GIVEN: "non indicato",
        MessageKey.ORDER_NOT_KNOWN: (
            "L'ordine {order_ref} non è noto al bridge di annullamento: verifica il numero; un ordine importato da "
            "pochi minuti potrebbe non essere ancora arrivato al bridge."
        ),
        MessageKey.NOT_AN_AMAZON_ORDER: (
            "L'ordine Commerce {order_ref} non è stato importato da Amazon: annullalo in Commerce."
        ),
        MessageKey.ORDER_NUMBER_AMBIGUOUS: (
            "Più di un ordine Commerce ha il numero {order_ref} (siti web che numerano gli ordini allo stesso modo): "
            "indica l'ordine con il suo ID ordine Amazon."
        ),
        MessageKey.CANCEL_UNDER_WAY: (
            "L'annullamento dell'ordine Amazon {amazon_order_id} è già nello stato {request_state} (richiesta "
            "#{request_id}): non serve altro."
        ),
        MessageKey.AUDIT_CANCELED_BY_OPERATOR: (
            "L'ordine Amazon {amazon_order_id} è stato annullato su Amazon da {actor} tramite {source} del bridge di "
            "annullamento (motivo: {reason}; feed {feed_id}); Amazon avvisa l'acquirente. Il bridge di annullamento "
            "ha impostato questo ordine su Completo."
        ),
        MessageKey.COMMERCE_ON_HOLD: (
            "L'ordine Commerce {order_ref} è in attesa, quindi l'ordine Amazon {amazon_order_id} non è stato "
            "annullato: rimuovi prima l'attesa in Commerce (spesso è una verifica antifrode), poi annulla di nuovo; "
            "oppure gestisci l'ordine nel tuo account Amazon Seller Central."
        ),
        MessageKey.COMMERCE_PAYMENT_REVIEW: (
            "L'ordine Commerce {order_ref} è in revisione del pagamento, quindi l'ordine Amazon {amazon_order_id} non "
            "è stato annullato: accetta o rifiuta prima il pagamento in Commerce, poi annulla di nuovo; oppure "
            "gestisci l'ordine nel tuo account Amazon Seller Central."
        ),
        MessageKey.COMMERCE_CLOSED: (
            "L'ordine Commerce {order_ref} è chiuso (rimborsato), quindi Commerce non può annullarlo e l'ordine "
            "Amazon {amazon_order_id} non è stato annullato: gestisci l'ordine nel tuo account Amazon Seller Central."
        ),
        MessageKey.COMMERCE_CANCELED: (
            "L'ordine Commerce {order_ref} è già annullato in Commerce, quindi il bridge non ha annullato l'ordine "
            "Amazon {amazon_order_id}: verifica l'ordine nel tuo account Amazon Seller Central e annullalo lì se è "
            "ancora aperto."
        ),
        MessageKey.COMMERCE_COMPLETE: (
            "L'ordine Commerce {order_ref} è Completo, quindi Commerce non può annullarlo e l'ordine Amazon "
            "{amazon_order_id} non è stato annullato: gestisci l'ordine nel tuo account Amazon Seller Central."
        ),
        MessageKey.COMMERCE_NOT_CANCELABLE: (
            "L'ordine Commerce {order_ref} è nello stato {commerce_state}, che Commerce non può annullare, quindi "
            "l'ordine Amazon {amazon_order_id} non è stato annullato: verifica l'ordine in Commerce, oppure gestiscilo "
            "nel tuo account Amazon Seller Central."
        ),
        MessageKey.REASON_NOT_ALLOWED: (
            "L'acquirente non ha chiesto ad Amazon di annullare l'ordine {amazon_order_id}, quindi non può essere "
            "annullato come BuyerCanceled (escluderebbe l'annullamento del venditore dal tasso di annullamento): "
            "scegli un altro motivo."
        ),
        MessageKey.ALREADY_COMPLETED: (
            "L'ordine Amazon {amazon_order_id} è già stato annullato tramite il bridge di annullamento (richiesta "
            "#{request_id}): non serve altro."
        ),
        MessageKey.AUDIT_NOT_SENT_BY_RULE: (
            "Il bridge di annullamento non ha inviato l'annullamento dell'ordine Amazon {amazon_order_id}. {why} "
            "Questo ordine non è stato impostato su Completo."
        ),
        MessageKey.AUDIT_CANCELED_LEFT_AS_IS: (
            "L'ordine Amazon {amazon_order_id} è annullato su Amazon. Questo ordine è nello stato {commerce_state} in "
            "Commerce, che il bridge di annullamento non sovrascrive: ha lasciato l'ordine com'è. Verificalo in "
            "Commerce."
        ),
        MessageKey.PROBLEM_COMMERCE_REFUSED: "Commerce non ha annullato l'ordine",
        MessageKey.PROBLEM_COMMERCE_NEVER_CANCELED: (
            "Commerce non ha annullato l'ordine: dopo {seconds} s è ancora nello stato {commerce_state}"
        ),
        MessageKey.PROBLEM_COMMERCE_NOT_YET: "L'ordine Commerce è nello stato {commerce_state}; nuova verifica a breve",
        MessageKey.PROBLEM_COMMERCE_READ: "Lettura da Commerce non riuscita: {error}",
        MessageKey.PROBLEM_COMMERCE_WRITE_BACK: "Aggiornamento dell'ordine Commerce non riuscito: {error}",
        MessageKey.PROBLEM_NEVER_READ_CANCELLED: (
            "Amazon ha accettato l'annullamento, ma l'ordine è ancora nello stato {amazon_status}"
        ),
        MessageKey.PROBLEM_STORE_GONE: "il negozio '{store_code}' non è più nel file dei negozi",
        MessageKey.PROBLEM_CANCELED_BY_ANOTHER: (
            "l'ordine Amazon {amazon_order_id} è in corso di annullamento con un'altra richiesta; si attende quella"
        ),
        MessageKey.PROBLEM_DUPLICATE_REQUEST: (
            "l'ordine Amazon {amazon_order_id} è anche nella richiesta di annullamento {request_id}"
        ),
        MessageKey.PROBLEM_MESSAGE_NOT_BUILT: "non è possibile comporre il messaggio di annullamento: {error}",
        MessageKey.PROBLEM_FEED_DOCUMENT: "documento del feed non riuscito: {error}",
        MessageKey.PROBLEM_CREATE_FEED: "createFeed non riuscito: {error}",
        MessageKey.PROBLEM_STOPPED_BEFORE_SENDING: (
            "il worker si è fermato prima di createFeed; non è stato inviato nulla"
        ),
        MessageKey.PROBLEM_FEED_NOT_CREATED: (
            "createFeed non ha raggiunto Amazon; le richieste vengono verificate e inviate di nuovo"
        ),
        MessageKey.PROBLEM_FEED_ENDED: "il feed {feed_id} è terminato con lo stato {processing_status}",
        MessageKey.PROBLEM_REPORT_UNREADABLE: "report di elaborazione illeggibile",
    },
}


RECORD_LOCALE = "en_US"  # what the records keep


def render(key: MessageKey, locale: str, **values: str) -> str:
    """The message in the store's locale, falling back to en_US for a locale the catalog lacks."""
    template = _CATALOG.get(locale, _CATALOG["en_US"])[key]
    return template.format(**values)


def problem(key: MessageKey, **values: str) -> str:
    """What stopped or delays a request, as its record keeps it: in en_US, the language of the logs, the API and the
    CLI (``recognise`` finds the key again, for the console to say it in its user's language)."""
    return render(key, RECORD_LOCALE, **values)


_FIELD = re.compile(r"\{(\w+)\}")


def _pattern(template: str) -> re.Pattern[str]:
    parts = _FIELD.split(template)  # literal, name, literal, name, ..., literal
    return re.compile(
        "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.*?)" for index, part in enumerate(parts)),
        re.DOTALL,
    )


_PATTERNS = {key: _pattern(template) for key, template in _CATALOG[RECORD_LOCALE].items()}
# Every value a message may name.
VALUE_NAMES = frozenset(name for template in _CATALOG[RECORD_LOCALE].values() for name in _FIELD.findall(template))


def recognise(text: str) -> tuple[MessageKey, dict[str, str]] | None:
    """The message ``text`` is, and its values, when the bridge wrote it in en_US from this catalog; None otherwise
    (an error text of a library, Amazon's own words)."""
    for key, pattern in _PATTERNS.items():
        found = pattern.fullmatch(text)
        if found is not None:
            return key, found.groupdict()
    return None
