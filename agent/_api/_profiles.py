"""Provider profiles: everything that differs between Responses API dialects.

A profile builds the computer tool, the first user message and each
computer_call_output, and knows its default coordinate space. The loop never
branches on the provider; it asks the profile.

- ``lightcone`` (Tzafon Lightcone, the default): tool ``computer_use`` with
  environment ``browser|desktop``; outputs ``input_image`` data URLs with
  ``detail: auto``; Northstar models think in normalized 0-999 coordinates.
- ``openai``: tool ``computer_use_preview`` with environment ``browser|linux``;
  ``truncation: auto``; outputs ``computer_screenshot``; pixel coordinates.

The wire choices are public knobs (`Agent(tool_type=, environment_name=,
output_type=, coordinate_space=)`, the CLI's ``--tool-type``,
``--environment-name``, ``--output-type``, ``--coordinates``): `with_wire`
returns the profile with them changed, one at a time, where the live API and
the official SDK's types disagree (the SDK's TypedDicts say
``computer_use_preview``, ``linux`` and ``computer_screenshot``; Lightcone's
published examples say ``computer_use``, ``desktop`` and ``input_image``).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from agent._api._content import ComputerScreenshot, InputImage, InputText
from agent._api._protocol import ComputerCallOutput, InputMessage, PendingSafetyCheck
from agent._errors import ConfigurationError
from executors._computer import Screenshot, Size
from executors._geometry import CoordinateSpace

__all__ = [
    "ENVIRONMENT_NAMES",
    "LIGHTCONE",
    "OPENAI",
    "OUTPUT_TYPES",
    "PROFILES",
    "TOOL_TYPES",
    "Environment",
    "OutputType",
    "ProviderProfile",
    "TextOnlyPolicy",
    "data_url",
    "default_coordinate_space",
    "resolve_profile",
    "with_wire",
]

Environment = Literal["browser", "desktop"]
OutputType = Literal["input_image", "computer_screenshot"]

TOOL_TYPES: tuple[str, ...] = ("computer_use", "computer_use_preview", "computer")
"""Computer tool types: Lightcone's examples, the SDK's TypedDict / OpenAI preview, OpenAI GA."""
ENVIRONMENT_NAMES: tuple[str, ...] = ("browser", "desktop", "linux", "ubuntu", "windows", "mac")
OUTPUT_TYPES: tuple[OutputType, ...] = ("input_image", "computer_screenshot")
TextOnlyPolicy = Literal["complete", "nudge"]
"""What a text-only answer (no calls) means: the run is ``complete``, or ``nudge`` the model on."""


def data_url(shot: Screenshot) -> str:
    """The screenshot as a ``data:`` URL (reusing the backend's base64 when it sent one)."""
    b64 = getattr(shot, "b64", None)
    if not b64 or len(b64) != 4 * ((len(shot.data) + 2) // 3):  # not this data's: encode
        b64 = base64.b64encode(shot.data).decode("ascii")
    return f"data:{shot.media_type};base64,{b64}"


@dataclass(frozen=True)
class ProviderProfile:
    """The dialect and defaults of one provider."""

    name: str
    dialect: Literal["lightcone", "openai"]
    tool_type: str
    output_type: Literal["input_image", "computer_screenshot"]
    desktop_environment: str
    truncation: str | None = None
    browser_environment: str = "browser"
    text_only: TextOnlyPolicy = "complete"
    """The default `TextOnlyPolicy` of runs in this dialect (``Agent(text_only=...)`` wins).

    Both built-in profiles keep ``complete``, the behaviour runs have always had
    (a Lightcone model can end with ``terminate``/``answer``, so a custom
    profile with ``nudge`` suits it; an OpenAI model ends by answering in text).
    """

    def environment_name(self, environment: Environment) -> str:
        """What the computer tool's ``environment`` says for `environment`."""
        return self.browser_environment if environment == "browser" else self.desktop_environment

    def wire(self, environment: Environment) -> dict[str, str]:
        """The wire choices of this profile for `environment` (recorded in run.json)."""
        return {
            "dialect": self.dialect,
            "tool_type": self.tool_type,
            "environment": self.environment_name(environment),
            "output_type": self.output_type,
        }

    def computer_tool(self, size: Size, environment: Environment) -> dict[str, Any]:
        """The computer tool entry of the request's ``tools``."""
        env = self.environment_name(environment)
        return {
            "type": self.tool_type,
            "display_width": size.width,
            "display_height": size.height,
            "environment": env,
        }

    def image_content(self, url: str) -> InputImage:
        """An ``input_image`` content part (first message, both dialects)."""
        return InputImage(image_url=url, detail="auto")

    def first_message(self, task: str, url: str) -> InputMessage:
        """The first input item: the task and the first screenshot."""
        return InputMessage(
            type="message", role="user", content=[InputText(text=task), self.image_content(url)]
        )

    def notice_message(self, lines: Sequence[str]) -> InputMessage:
        """A user message telling the model what its screenshot cannot show.

        Sent after the call outputs (both dialects accept a user message there).
        """
        text = "Notices since your last action (not visible in the screenshot):\n" + "\n".join(
            f"- {line}" for line in lines
        )
        return InputMessage(type="message", role="user", content=[InputText(text=text)])

    def user_message(self, text: str) -> InputMessage:
        """A plain user message (a nudge sent in place of call outputs)."""
        return InputMessage(type="message", role="user", content=[InputText(text=text)])

    def screenshot_output(
        self,
        call_id: str,
        url: str,
        *,
        current_url: str | None = None,
        acknowledged: list[dict[str, str]] | None = None,
    ) -> ComputerCallOutput:
        """The computer_call_output answering `call_id` with a screenshot."""
        output: InputImage | ComputerScreenshot
        if self.output_type == "input_image":
            output = InputImage(image_url=url, detail="auto")
        else:
            output = ComputerScreenshot(image_url=url)
        if current_url is not None:
            output.current_url = current_url
        item = ComputerCallOutput(call_id=call_id, output=output)
        if acknowledged:
            item.acknowledged_safety_checks = [
                PendingSafetyCheck.model_validate(c) for c in acknowledged
            ]
        return item


LIGHTCONE = ProviderProfile(
    name="lightcone",
    dialect="lightcone",
    tool_type="computer_use",
    output_type="input_image",
    desktop_environment="desktop",
)

OPENAI = ProviderProfile(
    name="openai",
    dialect="openai",
    tool_type="computer_use_preview",
    output_type="computer_screenshot",
    desktop_environment="linux",
    truncation="auto",
)

PROFILES: dict[str, ProviderProfile] = {"lightcone": LIGHTCONE, "openai": OPENAI}


def resolve_profile(
    model: str, base_url: str | None = None, provider: str | ProviderProfile | None = None
) -> ProviderProfile:
    """Pick the profile: an explicit profile or provider wins, then the base URL, then the model.

    `provider` may be a profile, a profile name, or the client's provider name
    (``custom`` means any other server: the dialect then follows the model name).
    Base URL and API key resolution live in `agent._api._provider`.
    """
    if isinstance(provider, ProviderProfile):
        return provider
    if provider is not None:
        name = provider.lower()
        if name in PROFILES:
            return PROFILES[name]
        if name != "custom":
            raise ConfigurationError(
                f"unknown provider {provider!r}; known: {sorted(PROFILES)} or 'custom'"
            )
    host = (base_url or "").lower()
    if "openai.com" in host:
        return OPENAI
    if "tzafon" in host:
        return LIGHTCONE
    if model.lower().startswith(("computer-use", "gpt-", "openai")):
        return OPENAI
    return LIGHTCONE


def default_coordinate_space(profile: ProviderProfile, model: str) -> CoordinateSpace:
    """Northstar models on Lightcone think in 0-999; everything else in pixels."""
    if profile.dialect == "lightcone" and "northstar" in model.lower():
        # the 0-999 grid, mapped as Lightcone's examples do: int(v / 1000 * dim)
        return "normalized"
    return "pixels"


def with_wire(
    profile: ProviderProfile,
    environment: Environment,
    *,
    tool_type: str | None = None,
    environment_name: str | None = None,
    output_type: str | None = None,
) -> ProviderProfile:
    """`profile` with the given wire choices changed (None keeps the profile's).

    `environment_name` names `environment` (the browser or the desktop) in the
    tool. Raises `ConfigurationError` for a value no known server speaks.
    """
    changes: dict[str, Any] = {}
    if tool_type is not None:
        if tool_type not in TOOL_TYPES:
            raise ConfigurationError(f"tool_type must be one of {TOOL_TYPES}, got {tool_type!r}")
        changes["tool_type"] = tool_type
    if environment_name is not None:
        if environment_name not in ENVIRONMENT_NAMES:
            raise ConfigurationError(
                f"environment_name must be one of {ENVIRONMENT_NAMES}, got {environment_name!r}"
            )
        key = "browser_environment" if environment == "browser" else "desktop_environment"
        changes[key] = environment_name
    if output_type is not None:
        if output_type not in OUTPUT_TYPES:
            raise ConfigurationError(
                f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}"
            )
        changes["output_type"] = output_type
    if not changes:
        return profile
    return replace(profile, **changes)
