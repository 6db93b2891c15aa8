"""What the logs may say about a transcript: a salted hash of it, or, if asked, its text.

Voice transcripts are personal data. By default a log line names a transcript by
``h:`` and the first 16 hex digits of HMAC-SHA256(salt, text): equal transcripts
get equal names within one salt, so a request can be followed through the logs,
but the text cannot be read back, nor found by hashing guesses without the salt.
The salt is random per process unless ``--log-salt`` sets one (to compare across
replicas); it is never logged. ``--log-transcripts`` logs the text itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import traceback

__all__ = ["TranscriptRedactor"]

HASH_HEX_DIGITS = 16


class TranscriptRedactor:
    """Turns transcripts and exceptions into what may be logged."""

    def __init__(self, log_transcripts: bool = False, salt: str | None = None) -> None:
        self.log_transcripts = log_transcripts
        self._salt = salt.encode("utf-8") if salt else secrets.token_bytes(32)

    def __repr__(self) -> str:
        return f"TranscriptRedactor(log_transcripts={self.log_transcripts}, salt=***)"

    def transcript(self, text: str) -> str:
        """``text`` quoted, if transcripts may be logged; else its salted hash."""
        if self.log_transcripts:
            return repr(text)
        digest = hmac.new(self._salt, text.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return "h:" + digest.hexdigest()[:HASH_HEX_DIGITS]

    def exception(self, exc: BaseException) -> str:
        """A traceback of ``exc`` whose message, which may quote a transcript, is withheld
        unless transcripts may be logged."""
        if self.log_transcripts:
            return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        frames = "".join(traceback.format_tb(exc.__traceback__))
        return (f"Traceback (most recent call last):\n{frames}{type(exc).__qualname__}: "
                "(message withheld: it may quote a transcript; --log-transcripts shows it)")
