"""The surface form used for exact matching: what is left once spelling noise is gone.

Unicode NFKC (full-width to half-width, compatibility forms), case folding, and
removal of every punctuation, symbol and separator character. Two texts with the
same key are the same request, so a transcript whose key equals a catalog text's
is answered without an embedding call.
"""

from __future__ import annotations

import unicodedata

__all__ = ["surface_key"]

_DROPPED_CATEGORIES = ("P", "S", "Z", "C")  # punctuation, symbols, separators, controls


def surface_key(text: str) -> str:
    """``" Turn ON the Lights!"`` -> ``"turnonthelights"``; ``"今天，天气？"`` -> ``"今天天气"``."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in _DROPPED_CATEGORIES)
