"""One rounding rule for every document: money to the cent, fractions to 6 decimals, the rest
only cleared of float noise; a fee is money beside a value and a rate elsewhere."""

from trimtab.interfaces.numbers import round_document


def test_money_is_rounded_to_cents_and_fractions_to_six_decimals():
    doc = round_document({"total_value": 10000.004999, "max_drift": 0.15000000000000002,
                          "weights": {"BTC": 0.6500000012345}, "quantity": 0.0130699912345678})
    assert doc == {"total_value": 10000.0, "max_drift": 0.15, "weights": {"BTC": 0.65}, "quantity": 0.0130699912346}


def test_a_fee_beside_a_value_is_money_and_a_fee_alone_is_a_rate():
    leg = round_document({"legs": [{"value": 1499.554999, "fee": 1.4995549}]})
    backtest = round_document({"fee": 0.001, "final_value": 12345.678})
    assert leg == {"legs": [{"value": 1499.55, "fee": 1.5}]}
    assert backtest == {"fee": 0.001, "final_value": 12345.68}


def test_nan_and_infinity_become_null_and_negative_zero_is_zero():
    assert round_document({"volatility": float("nan"), "price": float("inf"), "fees": -0.001}) == {
        "volatility": None, "price": None, "fees": 0.0}
