"""The package's exceptions, and the one table mapping them to gRPC status codes.

::

    NormalizerError
    ├── UserError                    something the caller or operator can fix
    │   ├── ConfigError              a bad flag, env var or config file value
    │   ├── CatalogError             invalid canonical-query YAML (file:line list)
    │   ├── CasesError               invalid labelled cases (file:line)
    │   └── InvalidRequestError      a malformed gRPC request (names the field)
    ├── IndexStoreError              the index store cannot be read or written
    │   └── IndexMismatchError       index built with another model, dimension or format
    ├── EmbedderError                the embedder failed; requests fall back to raw text
    │   ├── EmbedderUnavailableError transport failure, timeout, 5xx
    │   │   ├── EmbedderDeadlineError    the caller's deadline came before the answer
    │   │   └── CircuitOpenError         the breaker is open: no call was made
    │   ├── EmbedderResponseError    an answer of the wrong shape or with non-finite values
    │   └── EmbedderInputError       a text the model must not be sent (over its context)
    └── MissingExtraError            an optional dependency is not installed

Dependencies' exceptions (httpx, faiss, yaml, OSError) are wrapped at the boundary
with ``raise ... from exc`` so that callers handle only these.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

__all__ = [
    "GRPC_STATUS",
    "CasesError",
    "CatalogError",
    "CircuitOpenError",
    "ConfigError",
    "EmbedderDeadlineError",
    "EmbedderError",
    "EmbedderInputError",
    "EmbedderResponseError",
    "EmbedderUnavailableError",
    "IndexMismatchError",
    "IndexStoreError",
    "InvalidRequestError",
    "MissingExtraError",
    "NormalizerError",
    "UserError",
    "grpc_status_for",
]


class NormalizerError(Exception):
    """Base of every error this package raises on purpose."""


class UserError(NormalizerError):
    """A mistake the caller or operator can fix; the message says how."""


class ConfigError(UserError):
    """A configuration value is invalid."""


class CatalogError(UserError):
    """The canonical-query catalog is invalid.

    ``problems`` holds every ``file:line: message`` found, not only the first,
    so that an operator fixes the catalog in one pass.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class CasesError(UserError):
    """A labelled-cases file is invalid (``file:line: message``)."""


class InvalidRequestError(UserError):
    """A gRPC request is malformed; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class IndexStoreError(NormalizerError):
    """The index store is missing, corrupt or not writable."""


class IndexMismatchError(IndexStoreError):
    """The index was built with another embedding model, dimension or text format."""


class EmbedderError(NormalizerError):
    """The embedder could not produce vectors."""


class EmbedderUnavailableError(EmbedderError):
    """The embedder did not answer in time, refused the connection or failed (5xx)."""


class EmbedderDeadlineError(EmbedderUnavailableError):
    """The caller's deadline left too little time for the call, or passed during it."""


class CircuitOpenError(EmbedderUnavailableError):
    """The circuit breaker is open after repeated failures; the embedder was not called."""


class EmbedderResponseError(EmbedderError):
    """The embedder answered with something other than one finite vector per input."""


class EmbedderInputError(EmbedderError):
    """A text longer than the model can take was refused before it was sent: SGLang leaves
    such a request hanging (sglang issue 40459). Not the embedder's failure: the circuit
    breaker does not count it."""


class MissingExtraError(NormalizerError):
    """An optional dependency is missing; the message names the pip command."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"the Python module {module!r} is not installed; install it with: "
            f"pip install 'normalizer[{extra}]' (from a checkout: pip install '.[{extra}]')"
        )


# The first matching class wins, so subclasses come before their bases.
GRPC_STATUS: tuple[tuple[type[NormalizerError], grpc.StatusCode], ...] = (
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (UserError, grpc.StatusCode.FAILED_PRECONDITION),
    (IndexStoreError, grpc.StatusCode.UNAVAILABLE),
    (EmbedderError, grpc.StatusCode.UNAVAILABLE),
    (MissingExtraError, grpc.StatusCode.FAILED_PRECONDITION),
    (NormalizerError, grpc.StatusCode.INTERNAL),
)


def grpc_status_for(exc: BaseException) -> grpc.StatusCode:
    """The status a gRPC caller sees for ``exc``; INTERNAL for anything unexpected."""
    for cls, code in GRPC_STATUS:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL
