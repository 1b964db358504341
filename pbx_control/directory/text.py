"""Text folding for search, and display names that are safe wherever they are shown. Pure.

`search_words` must agree with the SQL function directory_words (pbx_control/sql/005_directory.sql):
lower case, words are runs of letters and digits. Names are stored NFC-normalized so that a name exported by a
Mac (decomposed "å") is found by what a user types (composed "å").
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 5
MAX_DISPLAY_NAME = 64


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def search_words(query: str) -> list[str]:
    """The words of a name query, folded like directory_words: "Anna-Karin Ö" -> ["anna", "karin", "ö"].

    At most MAX_QUERY_WORDS (the rest are ignored), duplicates dropped, order kept.
    """
    words: list[str] = []
    for word in _WORD.findall(nfc(query).lower()):
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


def like_escape(text: str) -> str:
    """Escape LIKE wildcards (the default escape character is the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def safe_display_name(name: str | None, max_len: int = MAX_DISPLAY_NAME) -> str | None:
    """A name for CALLERID(name), prompts and logs: no control or format characters (newlines,
    NUL, bidi overrides), whitespace collapsed, at most max_len characters; None if nothing is left.

    Quotes and non-Latin letters stay: the AGI layer quotes, and a SIP display name may be UTF-8.
    """
    if not name:
        return None
    kept = []
    for ch in nfc(name):
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            kept.append(" ")
        else:
            kept.append(ch)
    cleaned = " ".join("".join(kept).split())
    cleaned = cleaned[:max_len].rstrip()
    return cleaned or None
