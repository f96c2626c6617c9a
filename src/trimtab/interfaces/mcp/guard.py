"""The MCP server's gate: strict argument checks, one-sentence errors, a journal line per call,
and the bearer token in front of the HTTP transport.

``ToolCallGate`` is SDK middleware around every ``tools/call``. Before the tool runs it checks the
raw arguments against the tool's published JSON schema with ``additionalProperties: false``; a
violation ends the call with ``INVALID_ARGUMENT: <one sentence>`` that never echoes the value
(the value may be an injected instruction). After the call, any error text is cut to one line
without the SDK's prefix, and the call is journaled: time, tool, arguments (strings clipped, no
secrets: no tool takes one), outcome, code, duration.
"""

from __future__ import annotations

import hmac
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import anyio
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

CODE = re.compile(r"^([A-Z][A-Z0-9_]{2,31}): ")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SECRETISH = re.compile(r"token|secret|password|passphrase|api_?key|private", re.IGNORECASE)

Record = Callable[[str, dict[str, Any], str, str | None, str, float], None]
Schemas = Callable[[], Awaitable[dict[str, dict[str, Any]]]]


class ToolCallGate:
    """SDK server middleware (see the module docstring). ``schemas()`` returns tool name -> input
    schema (read once, at the first call); ``record(tool, arguments, outcome, code, message,
    duration_ms)`` journals one call."""

    def __init__(self, schemas: Schemas, record: Record, *, max_per_minute: int = 120) -> None:
        self.schemas, self.record, self.max_per_minute = schemas, record, max_per_minute
        self.validators: dict[str, Draft202012Validator] | None = None
        self.recent: deque[float] = deque()

    async def __call__(self, ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        if ctx.method != "tools/call" or not isinstance(ctx.params, dict):
            return await call_next(ctx)
        if self.validators is None:
            self.validators = compile_schemas(await self.schemas())
        began = time.perf_counter()
        name = str(ctx.params.get("name", ""))[:64]
        arguments = ctx.params.get("arguments") or {}
        refusal = self.throttle(time.monotonic()) or self.check(name, arguments)
        if refusal is not None:
            result: Any = {"content": [{"type": "text", "text": refusal}], "isError": True}
        else:
            result = _one_line(await call_next(ctx), name)
        outcome, code, message = _outcome(result)
        elapsed = (time.perf_counter() - began) * 1000
        await anyio.to_thread.run_sync(self.record, name, clean_arguments(arguments), outcome, code, message, elapsed)
        return result

    def check(self, name: str, arguments: Any) -> str | None:
        return refusal(self.validators or {}, name, arguments)

    def throttle(self, now: float) -> str | None:
        """``TOO_MANY_CALLS: ...`` when ``max_per_minute`` calls were already let through in the
        last 60 s (calls it refuses do not count, so a loop cannot lock itself out for ever)."""
        while self.recent and now - self.recent[0] >= 60.0:
            self.recent.popleft()
        if len(self.recent) >= self.max_per_minute:
            wait = 60.0 - (now - self.recent[0])
            return (f"TOO_MANY_CALLS: more than {self.max_per_minute} tool calls in a minute ([agent] "
                    f"max_calls_per_minute); wait {wait:.0f} s, and do not call in a loop.")
        self.recent.append(now)
        return None


def compile_schemas(schemas: dict[str, dict[str, Any]]) -> dict[str, Draft202012Validator]:
    """A validator per tool, over its schema made ``strict``."""
    return {name: Draft202012Validator(strict(schema)) for name, schema in schemas.items()}


def refusal(validators: dict[str, Draft202012Validator], name: str, arguments: Any) -> str | None:
    """``INVALID_ARGUMENT: ...`` (one line, never echoing a value) for an unknown tool or arguments
    outside its schema; None when the call may proceed."""
    validator = validators.get(name)
    if validator is None:
        return f"INVALID_ARGUMENT: there is no tool by that name; the tools are {', '.join(sorted(validators))}."
    if not isinstance(arguments, dict):
        return "INVALID_ARGUMENT: the arguments must be a JSON object."
    if _has_control_character(arguments):
        return "INVALID_ARGUMENT: an argument contains a control character (such as a newline); none takes one."
    if _has_non_finite_number(arguments):  # NaN passes every minimum/maximum: comparisons with it are false
        return "INVALID_ARGUMENT: an argument is NaN or infinite; every number must be finite."
    error = best_match(validator.iter_errors(arguments))
    return None if error is None else "INVALID_ARGUMENT: " + describe(error, validator.schema)


def strict(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` on every object that lists its properties or
    key patterns, so an unknown argument or a key that is not a symbol is refused, not ignored."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    tightened = {k: strict(v) for k, v in schema.items()}
    if tightened.get("type") == "object" and ("properties" in tightened or "patternProperties" in tightened):
        tightened.setdefault("additionalProperties", False)
    return tightened


def _has_control_character(value: Any) -> bool:
    if isinstance(value, str):
        return bool(CONTROL.search(value))
    if isinstance(value, dict):
        return any(_has_control_character(k) or _has_control_character(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_control_character(v) for v in value)
    return False


def _has_non_finite_number(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite_number(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_non_finite_number(v) for v in value)
    return False


def describe(error: Any, schema: dict[str, Any]) -> str:
    """One sentence for a schema violation, naming the argument and the rule, never the value."""
    where = ".".join(str(p) for p in error.absolute_path) or "the arguments"
    rule, expected = error.validator, error.validator_value
    if rule == "additionalProperties" and error.absolute_path:
        return f"{where} has a key that is not an asset symbol (1-15 capital letters or digits, e.g. BTC)."
    if rule == "additionalProperties":
        known = ", ".join(sorted(schema.get("properties", {}))) or "none"
        return f"an argument this tool does not take was given; it takes: {known}."
    if rule == "required":
        return f"a required argument is missing ({', '.join(expected)})."
    if rule == "pattern":
        return f"{where} is not in the expected form {expected}."
    if rule == "propertyNames":
        return f"{where} has a key that is not an asset symbol (1-15 capital letters or digits, e.g. BTC)."
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
                 "exclusiveMaximum": "less than"}
        return f"{where} must be {words[rule]} {expected:g}."
    if rule in ("maxLength", "maxItems", "maxProperties"):
        return f"{where} is too long (at most {expected})."
    if rule == "enum":
        return f"{where} must be one of {', '.join(map(str, expected))}."
    if rule == "type":
        return f"{where} must be of type {expected}."
    return f"{where} breaks the rule {rule}."


def clean_arguments(arguments: Any) -> dict[str, Any]:
    """Arguments as journaled: strings clipped to 80 characters, anything secret-looking masked."""
    if not isinstance(arguments, dict):
        return {"(not an object)": str(type(arguments).__name__)}

    def clip(key: str, value: Any) -> Any:
        if SECRETISH.search(key):
            return "***"
        if isinstance(value, str):
            return value[:80] + ("..." if len(value) > 80 else "")
        if isinstance(value, dict):
            return {str(k)[:32]: clip(str(k), v) for k, v in list(value.items())[:20]}
        if isinstance(value, list):
            return [clip(key, v) for v in value[:20]]
        return value

    return {str(k)[:32]: clip(str(k), v) for k, v in list(arguments.items())[:20]}


def _one_line(result: Any, name: str) -> Any:
    """Strip the SDK's ``Error executing tool NAME: `` prefix and keep the first line of an error."""
    if not isinstance(result, dict) or not result.get("isError"):
        return result
    content = result.get("content") or []
    for item in content:
        if isinstance(item, dict) and item.get("type") == "text":
            text = str(item.get("text", "")).removeprefix(f"Error executing tool {name}: ")
            text = text.removeprefix(f"Error executing tool {name}")
            first = text.strip().splitlines()[0] if text.strip() else ""
            if CODE.match(first):
                item["text"] = first
            elif "validation error" in first:
                item["text"] = "INVALID_ARGUMENT: the arguments do not match the tool's input schema."
            else:
                item["text"] = "INTERNAL: the tool failed unexpectedly; the server log has the detail."
    return result


def _outcome(result: Any) -> tuple[str, str | None, str]:
    if isinstance(result, dict) and result.get("isError"):
        text = next((c.get("text", "") for c in result.get("content", []) if isinstance(c, dict)), "")
        match = CODE.match(text)
        return "error", match.group(1) if match else None, text[:500]
    return "ok", None, ""


def now() -> datetime:
    return datetime.now(UTC)


class BearerAuth:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>`` (compared in
    constant time); anything else gets 401 and reaches nothing behind it."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token.encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            scheme, _, value = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
                body = b'{"error": "unauthorized: send Authorization: Bearer <token>"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
