"""Amazon's feed processing report: decoding the downloaded document and reading which messages failed.

The report comes from outside, so it is parsed defensively: no DTD, no entities, no network, a size cap, and
every failure surfaces as ``ReportError`` (never an lxml exception) so callers handle one error type.
``StatusCode`` ``Complete`` only means the report is finished; a message failed when an ``Error`` result names
its ``MessageID``. A report whose content does not add up is refused rather than read as "no errors".
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from dataclasses import dataclass

from lxml import etree

from bridge.errors import BridgeError

MAX_REPORT_BYTES = 50 * 1024 * 1024  # far above any real report; caps memory for a hostile or broken download

RESULT_ERROR = "Error"
RESULT_WARNING = "Warning"
DOCUMENT_MESSAGE_ID = 0  # Amazon reports document-level errors (e.g. an XML parsing error) as MessageID 0

# An XML declaration that names an encoding, readable in any ASCII-compatible encoding.
_DECLARED_ENCODING = r"""\A\s*<\?xml\s[^>]*?\bencoding\s*=\s*["'][A-Za-z][\w.:-]*["']"""
_DECLARED_ENCODING_TEXT = re.compile(_DECLARED_ENCODING)
_DECLARED_ENCODING_BYTES = re.compile(_DECLARED_ENCODING.encode("ascii"))
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # UTF-8, UTF-16 LE, UTF-16 BE: lxml honours a BOM
_CHARSET = re.compile(r""";\s*charset\s*=\s*["']?([^;"'\s]+)""", re.IGNORECASE)


class ReportError(BridgeError):
    """A processing report could not be decoded or parsed, or looks tampered with or inconsistent."""


@dataclass(frozen=True)
class MessageResult:
    """One ``Result`` of the report: an error or warning about one message (0 = the whole document)."""

    message_id: int
    result_code: str  # "Error" or "Warning"
    message_code: str | None  # ResultMessageCode
    description: str  # ResultDescription
    amazon_order_id: str | None  # AdditionalInfo/AmazonOrderID


@dataclass(frozen=True)
class ProcessingReport:
    """What Amazon did with a feed, as its processing report says."""

    status_code: str
    messages_processed: int
    messages_successful: int
    messages_with_error: int
    messages_with_warning: int
    results: tuple[MessageResult, ...]

    def error_for(self, message_id: int) -> MessageResult | None:
        """The ``Error`` result naming this message, if any.

        A document-level error (MessageID 0) failed every message, so it is returned when the message has no
        error of its own: a caller asking "did my message fail?" must never read such a report as success.
        """
        document_error = None
        for result in self.results:
            if result.result_code != RESULT_ERROR:
                continue
            if result.message_id == message_id:
                return result
            if result.message_id == DOCUMENT_MESSAGE_ID and document_error is None:
                document_error = result
        return document_error


def decode_report_document(raw: bytes, compression_algorithm: str | None, content_type: str | None) -> bytes:
    """Turn the downloaded report bytes into an XML document lxml reads correctly.

    Gunzips when ``getFeedDocument`` said ``GZIP`` (refusing to inflate past ``MAX_REPORT_BYTES``). When the
    download's ``Content-Type`` names a charset other than UTF-8, the document's own encoding declaration (or
    BOM) wins, since lxml honours it; without one, the bytes are decoded with the header charset and re-encoded
    as UTF-8, which is what lxml assumes for an undeclared document.
    """
    if len(raw) > MAX_REPORT_BYTES:
        raise ReportError(f"report document is larger than {MAX_REPORT_BYTES} bytes")
    if compression_algorithm:
        if compression_algorithm.upper() != "GZIP":
            raise ReportError(f"unsupported report compression {compression_algorithm!r}")
        raw = _gunzip(raw, MAX_REPORT_BYTES)

    charset = _charset_of(content_type)
    if charset is None or charset.replace("-", "").replace("_", "").lower() == "utf8":
        return raw
    if raw.startswith(_BOMS) or _DECLARED_ENCODING_BYTES.match(raw):
        return raw
    try:
        text = raw.decode(charset)
    except LookupError:
        raise ReportError(f"report has an unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        raise ReportError(f"report is not valid {charset}: {exc.reason} at byte {exc.start}") from None
    if _DECLARED_ENCODING_TEXT.match(text):
        return raw  # a declaration only visible once decoded (UTF-16 without BOM): lxml detects it itself
    return text.encode("utf-8")


def parse_processing_report(document: bytes) -> ProcessingReport:
    """Read the ``ProcessingReport`` out of a decoded report document.

    Raises ``ReportError`` for a document that is too large, is not well-formed XML, carries a DOCTYPE (DTDs are
    how entity-expansion and external-entity attacks start; Amazon's reports never have one), has no
    ``ProcessingReport``, or whose values are missing, malformed or inconsistent.
    """
    if not isinstance(document, bytes | bytearray):
        raise ReportError(f"report document must be bytes, got {type(document).__name__}")
    if len(document) > MAX_REPORT_BYTES:
        raise ReportError(f"report document is larger than {MAX_REPORT_BYTES} bytes")
    if b"<!DOCTYPE" in document or b"<!ENTITY" in document:
        raise ReportError("report document carries a DOCTYPE or entity declaration")

    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(bytes(document), parser)
    except (etree.LxmlError, ValueError) as exc:
        raise ReportError(f"report document is not well-formed XML: {exc}") from None
    if root is None:
        raise ReportError("report document is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        # The byte check above misses non-ASCII-compatible encodings such as UTF-16; this one does not.
        raise ReportError("report document carries a DOCTYPE")

    reports = [root] if root.tag == "ProcessingReport" else root.findall("Message/ProcessingReport")
    if len(reports) != 1:
        raise ReportError(f"expected one ProcessingReport in the document, found {len(reports)}")
    return _read_report(reports[0])


def _read_report(report: etree._Element) -> ProcessingReport:
    summary = report.find("ProcessingSummary")
    if summary is None:
        raise ReportError("ProcessingReport has no ProcessingSummary")
    results = tuple(_read_result(result) for result in report.findall("Result"))
    parsed = ProcessingReport(
        status_code=_required_text(report, "StatusCode"),
        messages_processed=_integer(summary, "MessagesProcessed"),
        messages_successful=_integer(summary, "MessagesSuccessful"),
        messages_with_error=_integer(summary, "MessagesWithError"),
        messages_with_warning=_integer(summary, "MessagesWithWarning"),
        results=results,
    )
    if parsed.messages_with_error and not any(result.result_code == RESULT_ERROR for result in results):
        # Read as is, this report would say "no message failed" while its summary says some did.
        raise ReportError(f"report counts {parsed.messages_with_error} messages with error but lists no Error result")
    return parsed


def _read_result(result: etree._Element) -> MessageResult:
    message_id = _integer(result, "MessageID")
    result_code = _required_text(result, "ResultCode")
    if result_code not in (RESULT_ERROR, RESULT_WARNING):
        raise ReportError(f"Result for message {message_id} has an unknown ResultCode {result_code!r}")
    return MessageResult(
        message_id=message_id,
        result_code=result_code,
        message_code=_optional_text(result, "ResultMessageCode"),
        description=_optional_text(result, "ResultDescription") or "",
        amazon_order_id=_optional_text(result, "AdditionalInfo/AmazonOrderID"),
    )


def _optional_text(parent: etree._Element, path: str) -> str | None:
    element = parent.find(path)
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def _required_text(parent: etree._Element, path: str) -> str:
    text = _optional_text(parent, path)
    if text is None:
        raise ReportError(f"{parent.tag} has no {path}")
    return text


def _integer(parent: etree._Element, path: str) -> int:
    text = _required_text(parent, path)
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        raise ReportError(f"{parent.tag}/{path} is not a non-negative integer: {text[:40]!r}")
    return int(text)


def _charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    return match.group(1) if match else None


def _gunzip(data: bytes, limit: int) -> bytes:
    """Inflate gzip data (all members), refusing to produce more than ``limit`` bytes: a small bomb stays small.

    GzipFile reads its input in chunks and carries only a chunk's leftover from one member to the next, so the
    work is linear in the input however many members it holds.
    """
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as inflated:
            output = inflated.read(limit + 1)
    except EOFError:
        raise ReportError("report gzip stream is truncated") from None
    except (OSError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise ReportError(f"report is not valid gzip: {exc}") from None
    if len(output) > limit:
        raise ReportError(f"report inflates beyond {limit} bytes")
    return output
