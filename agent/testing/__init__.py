"""Test helpers shipped with screenloop: the scripted Responses server and its scripts.

    from agent.testing import ScriptedResponsesServer, turn, computer_call, message

    with ScriptedResponsesServer([turn(computer_call("screenshot")), turn(message("done"))]) as srv:
        ...  # point a client or an Agent at srv.base_url

See `agent.testing._script` for the script format (turns, faults, `repeat`,
`delay`) and `agent.testing._server` for what the server checks.
"""

from agent.testing._protocol_checks import Dialect
from agent.testing._recording_computer import Call, RecordingComputer
from agent.testing._script import (
    Delay,
    Drop,
    DropMidBody,
    Fault,
    HTTPFault,
    MalformedJSON,
    NotAResponse,
    Script,
    StreamErrorFault,
    TruncatedSSE,
    computer_call,
    function_call,
    message,
    reasoning,
    safety_check,
    turn,
)
from agent.testing._server import RecordedRequest, ScriptedResponsesServer

__all__ = [
    "Call",
    "Delay",
    "Dialect",
    "Drop",
    "DropMidBody",
    "Fault",
    "HTTPFault",
    "MalformedJSON",
    "NotAResponse",
    "RecordedRequest",
    "RecordingComputer",
    "Script",
    "ScriptedResponsesServer",
    "StreamErrorFault",
    "TruncatedSSE",
    "computer_call",
    "function_call",
    "message",
    "reasoning",
    "safety_check",
    "turn",
]
