"""The MCP gate's argument check, against the server's real published schemas (no transport)."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.interfaces.mcp.guard import clean_arguments, compile_schemas, refusal
from trimtab.interfaces.mcp.server import build_server


@pytest.fixture(scope="module")
def validators(tmp_path_factory):
    config = tmp_path_factory.mktemp("gate") / "trimtab.toml"
    config.write_text('[portfolio]\ntargets = {BTC = 0.5, USDC = 0.5}\n')
    server = build_server(config)

    async def schemas():
        return {tool.name: tool.input_schema for tool in await server.list_tools()}

    return compile_schemas(anyio.run(schemas))


@settings(max_examples=300, deadline=None)
@given(text=st.text(min_size=4, max_size=200))
def test_any_text_as_a_plan_id_is_either_a_well_formed_id_or_refused_in_one_line_without_echo(validators, text):
    # Act
    answer = refusal(validators, "execute_plan", {"plan_id": text})
    # Assert
    if answer is not None:  # one of two fixed sentences: nothing of the text comes back
        control = "INVALID_ARGUMENT: an argument contains a control character (such as a newline); none takes one."
        assert answer in ("INVALID_ARGUMENT: plan_id is not in the expected form ^p[0-9a-f]{12}$.", control)
    else:
        assert len(text) == 13 and text[0] == "p"


@settings(max_examples=200, deadline=None)
@given(key=st.text(min_size=1, max_size=40), weight=st.floats(allow_nan=True, allow_infinity=True))
def test_backtest_targets_refuse_any_key_that_is_not_a_symbol_and_any_weight_outside_0_to_1(validators, key, weight):
    # Act
    answer = refusal(validators, "run_backtest", {"targets": {key: weight}, "start": "2024-01-01", "end": "2024-02-01"})
    # Assert
    symbol_ok = key.isascii() and key.isalnum() and key.upper() == key and len(key) <= 15
    weight_ok = 0 <= weight <= 1  # False for NaN
    assert (answer is None) == (symbol_ok and weight_ok)
    if weight != weight and symbol_ok:
        assert answer == "INVALID_ARGUMENT: an argument is NaN or infinite; every number must be finite."


def test_a_trailing_newline_or_any_control_character_is_refused_even_where_the_pattern_would_pass(validators):
    # Act
    answers = [refusal(validators, "execute_plan", {"plan_id": "p0123456789ab\n"}),
               refusal(validators, "run_backtest", {"targets": {"BTC\n": 1.0}, "start": "2024-01-01",
                                                    "end": "2024-02-01"})]
    # Assert
    assert all(a is not None and "control character" in a for a in answers)


def test_secret_looking_arguments_are_masked_and_long_strings_clipped_in_the_journal():
    # Arrange / Act
    cleaned = clean_arguments({"api_key": "abc", "plan_id": "x" * 300, "nested": {"password": "p"}})
    # Assert
    assert cleaned["api_key"] == "***" and cleaned["nested"]["password"] == "***"
    assert len(cleaned["plan_id"]) == 83


def test_the_gate_refuses_calls_past_the_limit_per_minute_and_lets_them_through_a_minute_later():
    # Arrange
    from trimtab.interfaces.mcp.guard import ToolCallGate

    async def no_schemas():
        return {}

    gate = ToolCallGate(no_schemas, lambda *a: None, max_per_minute=3)
    # Act
    first = [gate.throttle(t) for t in (0.0, 1.0, 2.0)]
    fourth = gate.throttle(3.0)
    later = gate.throttle(60.5)
    # Assert
    assert first == [None, None, None]
    assert fourth.startswith("TOO_MANY_CALLS: more than 3 tool calls in a minute") and "wait 57 s" in fourth
    assert later is None
