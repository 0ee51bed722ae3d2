"""The remote agent service the kit plays for the ID area (spec/identity.md § The remote agent service).

An ID implementation is an agent *client*.  The service it talks to belongs to the kit, as a
real service belongs to someone else: the kit mints the service handles and response ids,
performs the units of work, and keeps every request it receives, in order.  So "rejected
before any remote call" is judged on the kit's side, and a response id or handle the client
reports can be compared with the one the service actually gave.

One :class:`AgentServiceSim` per test (per driver).  It outlives a client restart, as a real
service outlives its caller's process.  The implementation reaches it through
``env.agent_service``:

* in process, that is the service object itself: ``call(request) -> reply``;
* over the adapter protocol, ``kit.begin`` carries ``agent_service_url`` (protocol 1.3), a
  loopback HTTP address that accepts the same request as a JSON ``POST`` body and answers the
  same reply as the JSON response body; :class:`HttpAgentService` is that client, and
  ``conformance.serve`` puts one in the environment it builds.

A request is ``{"method": …, "params": {…}}``; a reply ``{"result": …}`` or
``{"error": {"kind": …, "message": …}}``.  Methods (JSON types in spec/identity.md):

==========================  ===============================================  ==========================
method                      params                                           result
==========================  ===============================================  ==========================
``conversations.create``    (none)                                           ``{service_handle}``
``responses.create``        ``service_handle``, ``input``, ``steps``,        response record
                            ``reference_task_ids``
``responses.get``           ``response_id``                                  response record
==========================  ===============================================  ==========================

A response record is ``{response_id, status, output, reference_task_ids, service_handle}``:
``responses.get`` of an unfinished response performs one more unit of work first; of a finished
one it performs none.  The agent echoes: the output of a completed response is its input.
``service_handle`` is the handle the conversation has after the response: the one sent, or,
when a test turns on :attr:`AgentServiceSim.chaining` (``id.handle-chaining``), a new one per
response.  :meth:`AgentServiceSim.expire` forgets a response (``id.token-expiry``); asking
for it again is then ``not_found``.
"""

from __future__ import annotations

import http.server
import json
import secrets
import threading
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["AgentServiceSim", "HttpAgentService", "Request"]

Request = dict[str, Any]
MAX_STEPS = 100


@dataclass
class _Response:
    response_id: str
    service_handle: Any
    input: str
    remaining: int
    reference_task_ids: list[str]

    def record(self) -> dict[str, Any]:
        done = self.remaining == 0
        return {
            "response_id": self.response_id,
            "status": "completed" if done else "in_progress",
            "output": self.input if done else None,
            "reference_task_ids": list(self.reference_task_ids),
            "service_handle": json.loads(json.dumps(self.service_handle)),
        }


class _Refused(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _mint(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def _is_id_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


@dataclass
class AgentServiceSim:
    """The kit's agent service: one per test, shared by every client restart in it."""

    requests: list[Request] = field(default_factory=list)
    handles: list[Any] = field(default_factory=list)  # every handle the service issued, in order
    created: list[str] = field(default_factory=list)  # every response id the service minted, in order
    #: Responses-API chaining (``id.handle-chaining``): every response gives its conversation a new handle.
    chaining: bool = False
    _responses: dict[str, _Response] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _url: str | None = None

    @property
    def calls(self) -> int:
        """How many requests the service has received (a malformed one counts: it was sent)."""
        with self._lock:
            return len(self.requests)

    def response(self, response_id: Any) -> dict[str, Any] | None:
        """The service's own record of a response, as it stands, without performing any work."""
        with self._lock:
            found = self._responses.get(response_id) if isinstance(response_id, str) else None
            return None if found is None else found.record()

    def expire(self, response_id: str) -> None:
        """Forget a response, as a service forgets a background response past its retention (``id.token-expiry``)."""
        with self._lock:
            self._responses.pop(response_id, None)

    def sent(self, method: str) -> list[dict[str, Any]]:
        """The params of every request of ``method`` received so far, in order."""
        with self._lock:
            return [r.get("params", {}) for r in self.requests if isinstance(r, dict) and r.get("method") == method]

    # -- the endpoint ----------------------------------------------------------------------------
    def call(self, request: Any) -> dict[str, Any]:
        """Answer one request; never raises (a malformed request gets an error reply)."""
        with self._lock:
            self.requests.append(json.loads(json.dumps(request)) if _jsonable(request) else {"unreadable": True})
            try:
                return {"result": self._answer(request)}
            except _Refused as exc:
                return {"error": {"kind": exc.kind, "message": str(exc)}}

    def _answer(self, request: Any) -> Any:
        if not isinstance(request, dict) or not isinstance(request.get("params", {}), dict):
            raise _Refused("invalid_argument", "a request is {method, params} with params a JSON object")
        method, params = request.get("method"), request.get("params", {})
        if method == "conversations.create":
            handle = _mint("conv")
            self.handles.append(handle)
            return {"service_handle": handle}
        if method == "responses.create":
            return self._create(params)
        if method == "responses.get":
            found = self._responses.get(params.get("response_id"))
            if found is None:
                raise _Refused("not_found", f"no response {params.get('response_id')!r} on this service")
            if found.remaining:
                found.remaining -= 1
            return found.record()
        raise _Refused("invalid_argument", f"unknown method {method!r}")

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        handle, text, steps = params.get("service_handle"), params.get("input"), params.get("steps", 1)
        references = params.get("reference_task_ids", [])
        if handle is None or handle == "":
            raise _Refused("invalid_argument", "responses.create needs the conversation's service_handle")
        if not isinstance(text, str):
            raise _Refused("invalid_argument", "input is a string")
        if type(steps) is not int or not 1 <= steps <= MAX_STEPS:
            raise _Refused("invalid_argument", f"steps is an integer from 1 to {MAX_STEPS}")
        if not _is_id_list(references):
            raise _Refused("invalid_argument", "reference_task_ids is an array of non-empty strings")
        if self.chaining:  # the next request continues from this response: it names the conversation from now on
            handle = _mint("conv")
            self.handles.append(handle)
        response = _Response(_mint("resp"), handle, text, steps - 1, list(references))
        self._responses[response.response_id] = response
        self.created.append(response.response_id)
        return response.record()

    # -- over HTTP --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """A loopback address that serves this service over HTTP (started on first use)."""
        if self._url is None:
            self._url = _Loopback.get().register(self)
        return self._url


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


class _Loopback:
    """One loopback HTTP server per kit process; each service gets a path of its own."""

    _instance: ClassVar[_Loopback | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self.services: weakref.WeakValueDictionary[str, AgentServiceSim] = weakref.WeakValueDictionary()
        loopback = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                service = loopback.services.get(self.path.strip("/"))
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                except ValueError:
                    body = None
                if service is None:
                    reply: dict[str, Any] = {"error": {"kind": "not_found", "message": "no such service"}}
                elif body is None:
                    reply = service.call(None)
                else:
                    reply = service.call(body)
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="kit-agent-service", daemon=True).start()

    @classmethod
    def get(cls) -> _Loopback:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def register(self, service: AgentServiceSim) -> str:
        key = secrets.token_hex(8)
        self.services[key] = service
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/{key}"


class HttpAgentService:
    """The client side of ``agent_service_url``: the same ``call`` as the service object in process."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def call(self, request: Any) -> dict[str, Any]:
        data = json.dumps(request).encode()
        post = urllib.request.Request(self.url, data, {"Content-Type": "application/json"}, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(post, timeout=self.timeout) as answer:  # noqa: S310 - a loopback URL the kit gave
                reply: dict[str, Any] = json.loads(answer.read())
        except (OSError, urllib.error.URLError, ValueError) as exc:
            message = f"the agent service at {self.url} answered nothing: {exc}"
            return {"error": {"kind": "unavailable", "message": message}}
        return reply
