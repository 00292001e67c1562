"""Content parts of Responses API messages and outputs, and the shared base model.

`WireModel` keeps unknown fields and dumps only what was set; `parse_content`
reads one part, turning an unknown or malformed part into `UnknownContent`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, SerializeAsAny, ValidationError

from agent._errors import ResponseValidationError

__all__ = [
    "Annotation",
    "BaseContent",
    "ComputerScreenshot",
    "ContentPart",
    "InputFile",
    "InputImage",
    "InputText",
    "Logprob",
    "OutputText",
    "ReasoningText",
    "Refusal",
    "SummaryText",
    "TopLogprob",
    "UnknownContent",
    "WireModel",
    "parse_content",
]

logger = logging.getLogger(__name__)


class WireModel(BaseModel):
    """Base of every protocol model: keeps unknown fields, dumps only what was set."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    _always_dump_type: ClassVar[bool] = True
    """A model built in code still writes its ``type`` (the wire needs it)."""

    def model_post_init(self, context: Any, /) -> None:
        """Count a defaulted ``type`` as set, so a model built in code dumps it."""
        if self._always_dump_type and getattr(self, "type", None) is not None:
            self.model_fields_set.add("type")

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        """Like pydantic's, but ``exclude_unset`` and ``by_alias`` default to True."""
        kwargs.setdefault("exclude_unset", True)
        kwargs.setdefault("by_alias", True)
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        """Like pydantic's, but ``exclude_unset`` and ``by_alias`` default to True."""
        kwargs.setdefault("exclude_unset", True)
        kwargs.setdefault("by_alias", True)
        return super().model_dump_json(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict this model was read from (plus anything set since)."""
        return self.model_dump(mode="json")


# --- content parts -----------------------------------------------------------


class BaseContent(WireModel):
    """Base of content parts (``input_text``, ``output_text``, ``refusal``, ...)."""

    type: Any = None


class InputText(BaseContent):
    """``input_text``: text given to the model."""

    type: Literal["input_text"] = "input_text"
    text: str


class InputImage(BaseContent):
    """``input_image``: an image by URL (often a ``data:`` URL) or file id."""

    type: Literal["input_image"] = "input_image"
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None
    """``low``, ``high`` or ``auto``."""
    current_url: str | None = None
    """OpenAI's sample app puts the page URL here in computer_call_output."""


class InputFile(BaseContent):
    """``input_file``: a file by id, inline data or URL."""

    type: Literal["input_file"] = "input_file"
    file_id: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None


class ComputerScreenshot(BaseContent):
    """``computer_screenshot``: the reference's computer_call_output payload."""

    type: Literal["computer_screenshot"] = "computer_screenshot"
    image_url: str | None = None
    file_id: str | None = None
    current_url: str | None = None


class Annotation(WireModel):
    """An output_text annotation: file_citation, url_citation, container_file_citation,
    file_path (all fields optional; unknown kinds kept)."""

    type: str | None = None
    file_id: str | None = None
    filename: str | None = None
    index: int | None = None
    url: str | None = None
    title: str | None = None
    start_index: int | None = None
    end_index: int | None = None
    container_id: str | None = None


class TopLogprob(WireModel):
    """One alternative token with its log probability."""

    token: str | None = None
    bytes: list[int] | None = None
    logprob: float | None = None


class Logprob(TopLogprob):
    """A sampled token with its log probability and the top alternatives."""

    top_logprobs: list[TopLogprob] | None = None


class OutputText(BaseContent):
    """``output_text``: text from the model, with annotations and logprobs."""

    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[Annotation] | None = None
    logprobs: list[Logprob] | None = None


class Refusal(BaseContent):
    """``refusal``: the model declined."""

    type: Literal["refusal"] = "refusal"
    refusal: str


class SummaryText(BaseContent):
    """``summary_text``: a reasoning summary."""

    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningText(BaseContent):
    """``reasoning_text``: raw reasoning content."""

    type: Literal["reasoning_text"] = "reasoning_text"
    text: str


class UnknownContent(BaseContent):
    """A content part of a type screenloop does not model; kept verbatim."""


_CONTENT_TYPES: dict[str, type[BaseContent]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        InputText,
        InputImage,
        InputFile,
        ComputerScreenshot,
        OutputText,
        Refusal,
        SummaryText,
        ReasoningText,
    )
}


def parse_content(data: Mapping[str, Any]) -> BaseContent:
    """Read one content part; unknown or malformed parts become `UnknownContent`."""
    if isinstance(data, BaseContent):
        return data
    if not isinstance(data, Mapping):
        raise ResponseValidationError(
            f"a content part must be a JSON object, got {type(data).__name__}"
        )
    cls = _CONTENT_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is not None:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            logger.warning("content part %r kept as unknown: %s", data.get("type"), exc)
    return UnknownContent.model_validate(data)


def _coerce_content(value: Any) -> Any:
    try:
        return parse_content(value)
    except ResponseValidationError as exc:
        raise ValueError(str(exc)) from exc


ContentPart = Annotated[SerializeAsAny[BaseContent], BeforeValidator(_coerce_content)]
"""A content part field: validated by `parse_content`, dumped as its own class."""
