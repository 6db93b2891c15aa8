"""normalizer: rewrites noisy ASR transcripts to canonical queries, or leaves them alone.

The data flow, one folder a step: a transcript arrives through ``service`` (gRPC),
is embedded by an ``embedding`` backend, searched in the ``index`` of canonical
queries built from the ``catalog``, and ``matching`` decides between the best
canonical phrasing and the raw text.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
