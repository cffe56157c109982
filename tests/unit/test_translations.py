"""The console's Italian: every word the code and templates show has a translation, and the compiled catalog the
app loads is the one the translations file says (``make translations`` rebuilds both)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "bridge" / "web" / "translations" / "it_IT" / "LC_MESSAGES"


def console_words() -> set[str]:
    method_map = [("bridge/web/**.py", "python"), ("bridge/web/templates/**.html", "jinja2")]
    extracted = extract_from_dir(str(ROOT), method_map, keywords={**DEFAULT_KEYWORDS, "_l": None})
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in extracted}


def plain(text: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    """A message's id or translation, hashable: a plural's forms as a tuple (read_mo gives lists)."""
    return text if isinstance(text, str) else tuple(text)


def test_every_word_of_the_console_has_an_italian_translation() -> None:
    with (CATALOG / "messages.po").open("rb") as file:
        catalog = read_po(file)
    translated = {
        message.id if isinstance(message.id, str) else message.id[0]  # a plural by its singular, as extracted
        for message in catalog
        if message.id and message.string and all(plain(message.string))
    }
    words = console_words()
    assert len(words) > 100
    assert words <= translated, sorted(words - translated)


def test_the_compiled_catalog_matches_the_translations_file() -> None:
    with (CATALOG / "messages.po").open("rb") as po, (CATALOG / "messages.mo").open("rb") as mo:
        written, compiled = read_po(po), read_mo(mo)
    assert {plain(m.id): plain(m.string) for m in written if m.id} == {
        plain(m.id): plain(m.string) for m in compiled if m.id
    }
