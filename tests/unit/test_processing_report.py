"""Decoding and parsing Amazon's processing reports, including hostile and broken documents."""

from __future__ import annotations

import gzip
import time

import pytest

from bridge.domain import processing_report
from bridge.domain.processing_report import (
    MessageResult,
    ReportError,
    decode_report_document,
    parse_processing_report,
)
from bridge.errors import BridgeError
from tests.reference import reference


def _report(results: str = "", errors: int = 0, warnings: int = 0, declaration: str = "") -> str:
    return f"""{declaration}<AmazonEnvelope>
  <Header><DocumentVersion>1.02</DocumentVersion><MerchantIdentifier>A1</MerchantIdentifier></Header>
  <MessageType>ProcessingReport</MessageType>
  <Message>
    <MessageID>1</MessageID>
    <ProcessingReport>
      <DocumentTransactionID>42</DocumentTransactionID>
      <StatusCode>Complete</StatusCode>
      <ProcessingSummary>
        <MessagesProcessed>2</MessagesProcessed>
        <MessagesSuccessful>{2 - errors}</MessagesSuccessful>
        <MessagesWithError>{errors}</MessagesWithError>
        <MessagesWithWarning>{warnings}</MessagesWithWarning>
      </ProcessingSummary>{results}
    </ProcessingReport>
  </Message>
</AmazonEnvelope>
"""


def _result(message_id: str, code: str = "Error", description: str = "Nope", order: str | None = None) -> str:
    info = f"<AdditionalInfo><AmazonOrderID>{order}</AmazonOrderID></AdditionalInfo>" if order else ""
    return (
        f"<Result><MessageID>{message_id}</MessageID><ResultCode>{code}</ResultCode>"
        f"<ResultMessageCode>18028</ResultMessageCode><ResultDescription>{description}</ResultDescription>"
        f"{info}</Result>"
    )


# Reports built here, for the decoding tests (the official samples are only read where they are the point).
ERROR_REPORT = _report(_result("2", order="171-1234567-1234567"), errors=1).encode()
SUCCESS_REPORT = _report().encode()


@pytest.fixture(scope="module")
def error_sample() -> bytes:
    return reference("amazon", "samples", "processing-report-error.xml").read_bytes()


@pytest.fixture(scope="module")
def success_sample() -> bytes:
    return reference("amazon", "samples", "processing-report-success.xml").read_bytes()


# --- parsing the samples ---------------------------------------------------------------------------------


def test_the_error_sample_names_three_failed_messages(error_sample: bytes) -> None:
    report = parse_processing_report(error_sample)

    assert report.status_code == "Complete"
    assert (report.messages_processed, report.messages_successful) == (4, 1)
    assert (report.messages_with_error, report.messages_with_warning) == (3, 0)
    assert [r.message_id for r in report.results] == [1, 2, 4]
    assert [r.amazon_order_id for r in report.results] == [
        "302-6666666-6666666",
        "302-5555555-5555555",
        "305-4444444-4444444",
    ]
    assert {r.result_code for r in report.results} == {"Error"}
    assert {r.message_code for r in report.results} == {"18028"}
    assert report.results[0].description.startswith("The data you submitted is incomplete or invalid.")
    assert report.error_for(2) == report.results[1]
    assert report.error_for(3) is None


def test_the_success_sample_has_no_results(success_sample: bytes) -> None:
    report = parse_processing_report(success_sample)

    assert report.status_code == "Complete"
    assert (report.messages_processed, report.messages_successful, report.messages_with_error) == (1, 1, 0)
    assert report.results == ()
    assert report.error_for(1) is None


def test_a_warning_is_not_an_error() -> None:
    report = parse_processing_report(_report(_result("2", "Warning"), warnings=1).encode())

    assert report.results == (MessageResult(2, "Warning", "18028", "Nope", None),)
    assert report.error_for(2) is None


def test_a_document_level_error_fails_every_message() -> None:
    report = parse_processing_report(_report(_result("0", description="XML Parsing Error"), errors=2).encode())

    assert report.error_for(1) == report.error_for(2) == report.results[0]
    assert report.error_for(1).description == "XML Parsing Error"


def test_a_message_own_error_wins_over_a_document_level_one() -> None:
    results = _result("0", description="document") + _result("2", description="own", order="171-1234567-1234567")
    report = parse_processing_report(_report(results, errors=2).encode())

    assert report.error_for(2).description == "own"
    assert report.error_for(2).amazon_order_id == "171-1234567-1234567"


def test_a_bare_processing_report_root_is_read_too() -> None:
    document = (
        b"<ProcessingReport><DocumentTransactionID>1</DocumentTransactionID><StatusCode>Complete</StatusCode>"
        b"<ProcessingSummary><MessagesProcessed>1</MessagesProcessed><MessagesSuccessful>1</MessagesSuccessful>"
        b"<MessagesWithError>0</MessagesWithError><MessagesWithWarning>0</MessagesWithWarning>"
        b"</ProcessingSummary></ProcessingReport>"
    )

    assert parse_processing_report(document).messages_successful == 1


@pytest.mark.parametrize(
    ("document", "match"),
    [
        (b"<AmazonEnvelope><MessageType>ProcessingReport</MessageType></AmazonEnvelope>", "found 0"),
        (b"<Feed><Result/></Feed>", "found 0"),
        (_report().replace("ProcessingSummary>", "Summary>"), "no ProcessingSummary"),
        (_report().replace("<StatusCode>Complete</StatusCode>", ""), "no StatusCode"),
        (_report().replace("<MessagesProcessed>2<", "<MessagesProcessed>two<"), "MessagesProcessed"),
        (_report().replace("<MessagesProcessed>2<", "<MessagesProcessed>-2<"), "MessagesProcessed"),
        (_report(_result("x1")), "MessageID"),
        (_report(_result("1", code="Info")), "unknown ResultCode"),
        (_report(_result("1").replace("<ResultCode>Error</ResultCode>", "")), "no ResultCode"),
        (_report(errors=1), "lists no Error result"),
        (_report(_result("1", code="Warning"), errors=1), "lists no Error result"),
    ],
)
def test_a_report_that_does_not_add_up_is_refused(document: str | bytes, match: str) -> None:
    data = document.encode() if isinstance(document, str) else document
    with pytest.raises(ReportError, match=match):
        parse_processing_report(data)


# --- hostile and broken documents ------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE AmazonEnvelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<AmazonEnvelope><Message><ProcessingReport><StatusCode>&xxe;</StatusCode></ProcessingReport></Message></AmazonEnvelope>
"""
PARAMETER_XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<r/>
"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""
EXTERNAL_DTD = b'<?xml version="1.0"?>\n<!DOCTYPE AmazonEnvelope SYSTEM "http://127.0.0.1:9/amzn.dtd">\n' + (
    _report().encode()
)
PLAIN_DOCTYPE = b"<!DOCTYPE AmazonEnvelope>\n" + _report().encode()
# In UTF-16 the bytes "<!DOCTYPE" never appear as such: only the check on the parsed tree catches this one.
UTF16_DOCTYPE = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE AmazonEnvelope []>\n' + _report()).encode("utf-16")


@pytest.mark.parametrize(
    "document",
    [XXE, PARAMETER_XXE, BILLION_LAUGHS, EXTERNAL_DTD, PLAIN_DOCTYPE, UTF16_DOCTYPE],
    ids=["xxe", "parameter-xxe", "billion-laughs", "external-dtd", "plain-doctype", "utf16-doctype"],
)
def test_a_document_with_a_doctype_is_refused(document: bytes) -> None:
    with pytest.raises(ReportError, match="DOCTYPE"):
        parse_processing_report(document)


def test_the_doctype_check_on_the_parsed_tree_works_on_its_own() -> None:
    """Without the byte pre-check (UTF-16 hides it), the parsed tree still betrays the DOCTYPE."""
    assert b"<!DOCTYPE" not in UTF16_DOCTYPE
    with pytest.raises(ReportError, match="DOCTYPE"):
        parse_processing_report(UTF16_DOCTYPE)
    # ... while the same report in UTF-16 without a DOCTYPE is fine.
    clean = ('<?xml version="1.0" encoding="UTF-16"?>\n' + _report()).encode("utf-16")
    assert parse_processing_report(clean).messages_processed == 2


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"   ",
        b"not xml at all",
        b'{"errors": []}',
        b"\x00\xff\xfe garbage \x89PNG",
        b"<AmazonEnvelope><Message></AmazonEnvelope>",
        ERROR_REPORT[: len(ERROR_REPORT) // 2],
        gzip.compress(SUCCESS_REPORT),  # forgot to decode
    ],
    ids=["empty", "blank", "text", "json", "binary", "mismatched", "truncated", "gzipped"],
)
def test_garbage_raises_report_error_never_an_lxml_error(document: bytes) -> None:
    with pytest.raises(ReportError):
        parse_processing_report(document)


def test_report_error_is_a_bridge_error() -> None:
    assert issubclass(ReportError, BridgeError)


def test_an_oversized_document_is_refused_before_parsing() -> None:
    oversized = SUCCESS_REPORT + b" " * (processing_report.MAX_REPORT_BYTES + 1 - len(SUCCESS_REPORT))

    with pytest.raises(ReportError, match="larger than"):
        parse_processing_report(oversized)
    with pytest.raises(ReportError, match="larger than"):
        decode_report_document(oversized, None, None)


# --- decoding the download -------------------------------------------------------------------------------


def test_an_uncompressed_utf8_document_is_returned_unchanged() -> None:
    assert decode_report_document(ERROR_REPORT, None, "text/xml; charset=UTF-8") is ERROR_REPORT
    assert decode_report_document(ERROR_REPORT, None, None) is ERROR_REPORT
    assert decode_report_document(ERROR_REPORT, None, "text/xml") is ERROR_REPORT
    assert decode_report_document(ERROR_REPORT, "", "application/xml; charset=utf8") is ERROR_REPORT


def test_a_gzipped_report_round_trips() -> None:
    decoded = decode_report_document(gzip.compress(ERROR_REPORT), "GZIP", "text/xml; charset=UTF-8")

    assert decoded == ERROR_REPORT
    assert parse_processing_report(decoded).error_for(2).amazon_order_id == "171-1234567-1234567"


def test_a_multi_member_gzip_is_inflated_whole() -> None:
    half = len(ERROR_REPORT) // 2
    raw = gzip.compress(ERROR_REPORT[:half]) + gzip.compress(ERROR_REPORT[half:])

    assert decode_report_document(raw, "GZIP", None) == ERROR_REPORT


def test_an_iso_8859_1_report_with_its_declaration_is_left_to_lxml() -> None:
    text = _report(_result("1", description="Quantità non valida"), errors=1, declaration=_latin1_declaration())
    raw = text.encode("iso-8859-1")

    decoded = decode_report_document(raw, None, "text/xml; charset=ISO-8859-1")

    assert decoded is raw
    assert parse_processing_report(decoded).error_for(1).description == "Quantità non valida"


def test_an_iso_8859_1_report_without_a_declaration_is_reencoded_as_utf8() -> None:
    raw = _report(_result("1", description="Quantità non valida"), errors=1).encode("iso-8859-1")
    with pytest.raises(ReportError):  # read as UTF-8, these bytes are not even well-formed
        parse_processing_report(raw)

    decoded = decode_report_document(raw, None, 'text/xml;charset="iso-8859-1"')

    assert decoded == raw.decode("iso-8859-1").encode("utf-8")
    assert parse_processing_report(decoded).error_for(1).description == "Quantità non valida"


def test_a_declaration_without_encoding_uses_the_header_charset() -> None:
    declaration = '<?xml version="1.0"?>\n'
    raw = _report(_result("1", description="Größe"), errors=1, declaration=declaration).encode("iso-8859-1")

    decoded = decode_report_document(raw, None, "text/xml; charset=ISO-8859-1")

    assert parse_processing_report(decoded).error_for(1).description == "Größe"


@pytest.mark.parametrize("declared", [True, False])
def test_gzip_and_iso_8859_1_together_round_trip(declared: bool) -> None:
    declaration = _latin1_declaration() if declared else ""
    raw = _report(_result("1", description="Società"), errors=1, declaration=declaration).encode("iso-8859-1")

    decoded = decode_report_document(gzip.compress(raw), "GZIP", "text/xml; charset=ISO-8859-1")

    assert parse_processing_report(decoded).error_for(1).description == "Società"


def test_a_utf16_report_with_a_bom_is_left_to_lxml() -> None:
    raw = ('<?xml version="1.0" encoding="UTF-16"?>\n' + _report(_result("1", description="é"), errors=1)).encode(
        "utf-16"
    )

    decoded = decode_report_document(raw, None, "text/xml; charset=UTF-16")

    assert decoded is raw
    assert parse_processing_report(decoded).error_for(1).description == "é"


def test_a_gzip_bomb_is_refused() -> None:
    gzip_bomb = gzip.compress(b"\0" * (50 * 1024 * 1024 + 1), 9)
    assert len(gzip_bomb) < 100_000

    with pytest.raises(ReportError, match="inflates beyond"):
        decode_report_document(gzip_bomb, "GZIP", None)


@pytest.mark.parametrize(
    ("raw", "compression", "content_type", "match"),
    [
        (b"<not gzip/>", "GZIP", None, "not valid gzip"),
        (gzip.compress(SUCCESS_REPORT)[:-12], "GZIP", None, "truncated"),
        (gzip.compress(SUCCESS_REPORT) + b"trailing junk", "GZIP", None, "not valid gzip"),
        (SUCCESS_REPORT, "ZIP", None, "unsupported report compression"),
        (b"<r>x</r>", None, "text/xml; charset=x-klingon", "unknown charset"),
        ("<r>\u00e9</r>".encode(), None, "text/xml; charset=us-ascii", "not valid us-ascii"),
    ],
)
def test_a_download_that_cannot_be_decoded_raises_report_error(
    raw: bytes, compression: str | None, content_type: str | None, match: str
) -> None:
    with pytest.raises(ReportError, match=match):
        decode_report_document(raw, compression, content_type)


def _latin1_declaration() -> str:
    return '<?xml version="1.0" encoding="ISO-8859-1"?>\n'


def test_inflating_many_gzip_members_costs_time_linear_in_their_number() -> None:
    """Four times the members costs about four times the work (a quadratic reader costs sixteen times)."""
    member = gzip.compress(b"x")

    def cpu_seconds(members: int) -> float:
        started = time.process_time()
        assert len(decode_report_document(member * members, "GZIP", None)) == members
        return time.process_time() - started

    small, large = cpu_seconds(30_000), cpu_seconds(120_000)
    assert large < 8 * max(small, 0.01)
