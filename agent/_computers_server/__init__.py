"""`screenloop serve-computers`: Lightcone's Computers API on loopback, backed by local computers.

See `agent._computers_server._server` for the routes and `._sessions` for how
sessions start and end. The official SDK (``tzafon``) drives it unchanged:
``Lightcone(base_url=server.origin, api_key=KEY).computer.create(kind="browser")``.
"""

from agent._computers_server._server import (
    ACTION_FIELDS,
    REQUEST_FIELDS,
    ComputersServer,
    Exchange,
)
from agent._computers_server._sessions import Session, SessionPool

__all__ = [
    "ACTION_FIELDS",
    "REQUEST_FIELDS",
    "ComputersServer",
    "Exchange",
    "Session",
    "SessionPool",
]
