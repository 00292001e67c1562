"""Secret placeholders resolve only at execution; the redactor scrubs values and the key."""

from __future__ import annotations

import logging

import pytest

from agent._secrets import RedactingFilter, Redactor, UnknownSecretError, resolve_secrets


def test_resolve() -> None:
    secrets = {"PASSWORD": "hunter2!", "USER": "ada"}
    assert resolve_secrets("{{secret:USER}} / {{ secret:PASSWORD }}", secrets) == "ada / hunter2!"
    with pytest.raises(UnknownSecretError, match="'TOKEN'"):
        resolve_secrets("{{secret:TOKEN}}", secrets)


def test_redactor_scrubs_nested_structures_but_not_images() -> None:
    redact = Redactor({"PASSWORD": "hunter2!"}, api_key="sk-test-123")
    data = {
        "a": ["typed hunter2! here", {"auth": "Bearer sk-test-123"}],
        "img": "data:image/png;base64,hunter2!",
    }
    assert redact(data) == {
        "a": ["typed {{secret:PASSWORD}} here", {"auth": "Bearer [REDACTED]"}],
        "img": "data:image/png;base64,hunter2!",
    }


def test_logging_filter(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.secrets")
    log.addFilter(RedactingFilter(Redactor({"PIN": "9876"})))
    with caplog.at_level(logging.INFO, logger="test.secrets"):
        log.info("typed %s", "9876")
    assert caplog.messages == ["typed {{secret:PIN}}"]
