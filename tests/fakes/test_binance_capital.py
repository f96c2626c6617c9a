"""The Binance fake's capital endpoints through real ccxt, and the chain network linking it to the wallet fake."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from .binance_spot import BinanceSpotFake
from .binance_wire import SpotMarket
from .chain_network import ChainNetwork
from .fixtures import make_ccxt_binance
from .purpleflea import running_purpleflea
from .purpleflea_chains import USDC
from .purpleflea_wallet import WALLET_KEY

WALLET_ADDRESS = "0x" + "ab" * 20


@pytest.fixture
def linked():
    network = ChainNetwork()
    with running_purpleflea(network=network) as pf, BinanceSpotFake(
            markets=[SpotMarket("ETH", "USDC", Decimal(2000))], balances={"USDC": 1000, "ETH": 1},
            network=network) as binance:
        exchange = make_ccxt_binance(binance.url, enableRateLimit=False)
        exchange.load_markets()
        yield network, pf, binance, exchange


def test_deposit_address_is_stable_and_shared_by_evm_networks(linked):
    _, _, binance, exchange = linked
    base = exchange.fetch_deposit_address("USDC", {"network": "BASE"})["address"]
    eth = exchange.fetch_deposit_address("USDC", {"network": "ERC20"})["address"]
    sol = exchange.fetch_deposit_address("USDC", {"network": "SOL"})["address"]
    assert base == eth == exchange.fetch_deposit_address("USDC", {"network": "BASE"})["address"]
    assert base.startswith("0x") and not sol.startswith("0x")
    assert binance.requests_to("/sapi/v1/capital/deposit/address")[-1].query["network"] == "BASE"


def test_withdrawal_debits_now_is_broadcast_later_and_lands_in_the_wallet(linked):
    network, pf, binance, exchange = linked
    answer = exchange.withdraw("USDC", 100, WALLET_ADDRESS, {"network": "BASE", "withdrawOrderId": "w-1"})
    assert set(answer["info"]) == {"id"}  # the apply answer promises only the id
    assert binance.balances["USDC"] == Decimal(900)
    row = exchange.fetch_withdrawals("USDC", None, None, {"withdrawOrderId": "w-1"})[0]
    assert row["info"]["status"] == 4 and row["status"] == "pending" and "txId" not in row["info"]
    assert row["amount"] == 99.8 and row["fee"]["cost"] == 0.2  # amount on chain = requested - fee
    network.clock.advance(binance.withdraw_seconds)
    row = exchange.fetch_withdrawals("USDC", None, None, {"withdrawOrderId": "w-1"})[0]
    assert row["info"]["status"] == 4 and row["status"] == "pending" and row["txid"]  # broadcast
    assert pf.wallet.balance("base", WALLET_ADDRESS, "USDC") == 0  # on its way, not yet confirmed
    network.clock.advance(network.delays["base"])
    row = exchange.fetch_withdrawals("USDC", None, None, {"withdrawOrderId": "w-1"})[0]
    assert row["info"]["status"] == 6 and row["status"] == "ok" and "completeTime" in row["info"]
    assert pf.wallet.balance("base", WALLET_ADDRESS, "USDC") == Decimal("99.8")


def test_reused_withdraw_order_id_withdraws_twice(linked):
    _, _, binance, exchange = linked
    for _ in range(2):
        exchange.withdraw("USDC", 50, WALLET_ADDRESS, {"network": "BASE", "withdrawOrderId": "same"})
    assert binance.balances["USDC"] == Decimal(900)
    assert len(binance.withdrawal_by_client_id("same")) == 2


def test_failed_withdrawal_returns_the_amount_and_says_why(linked):
    network, _, binance, exchange = linked
    binance.next_withdrawal_outcome = "fail"
    exchange.withdraw("USDC", 100, WALLET_ADDRESS, {"network": "BASE", "withdrawOrderId": "w-f"})
    network.clock.advance(binance.withdraw_seconds)
    row = exchange.fetch_withdrawals("USDC", None, None, {"withdrawOrderId": "w-f"})[0]
    assert row["info"]["status"] == 5 and row["status"] == "failed" and row["info"]["info"]
    assert binance.balances["USDC"] == Decimal(1000)
    assert network.log == []


@pytest.mark.parametrize(("kwargs", "error", "code"), [
    ({"amount": 5000}, ccxt.BadRequest, "-4026"),  # ccxt maps the sapi code to BadRequest, not InsufficientFunds
    ({"amount": "0.5"}, ccxt.BadRequest, "-4022"),
    ({"network": "ARBITRUM"}, ccxt.ExchangeError, "-4019"),
    ({"address": "not-an-address"}, ccxt.BadRequest, "-4033"),
])
def test_refused_withdrawals_leave_the_balance(linked, kwargs, error, code):
    _, _, binance, exchange = linked
    args = {"amount": 100, "address": WALLET_ADDRESS, "network": "BASE", **kwargs}
    with pytest.raises(error, match=code):
        exchange.withdraw("USDC", args["amount"], args["address"], {"network": args["network"]})
    assert binance.balances["USDC"] == Decimal(1000) and binance.withdrawals == []


def test_lost_answer_after_the_effect_and_refused_request_before_it(linked):
    _, _, binance, exchange = linked
    binance.drop_response_of_next("/sapi/v1/capital/withdraw/apply", "500")
    with pytest.raises(ccxt.OperationFailed):  # -1001: ccxt's OperationFailed, which is not a NetworkError
        exchange.withdraw("USDC", 100, WALLET_ADDRESS, {"network": "BASE", "withdrawOrderId": "lost"})
    assert len(binance.withdrawal_by_client_id("lost")) == 1  # it happened all the same
    binance.fail_next("/sapi/v1/capital/withdraw/apply", 503)
    with pytest.raises(ccxt.OperationFailed):
        exchange.withdraw("USDC", 100, WALLET_ADDRESS, {"network": "BASE", "withdrawOrderId": "refused"})
    assert binance.withdrawal_by_client_id("refused") == []


def test_history_reads_cost_18000_uid_weight_and_the_eleventh_in_a_minute_is_refused(linked):
    _, _, binance, exchange = linked
    binance._uid_used = 0
    refused = 0
    for _ in range(11):
        try:
            exchange.fetch_withdrawals("USDC")
        except ccxt.DDoSProtection:
            refused += 1
    assert refused >= 1
    assert int(exchange.last_response_headers.get("X-SAPI-USED-UID-WEIGHT-1M", 0)) >= 180_000


def test_wallet_send_to_the_deposit_address_is_pending_then_credited(linked):
    network, pf, binance, exchange = linked
    created = pf.wallet.create_wallet()
    ours = created["addresses"]["base"]
    pf.wallet.set_balance("base", ours, "USDC", 500)
    pf.wallet.set_balance("base", ours, "ETH", "0.01")
    deposit = exchange.fetch_deposit_address("USDC", {"network": "BASE"})["address"]
    import httpx
    sent = httpx.post(pf.wallet.url + "/v1/wallet/send", headers={"Authorization": f"Bearer {WALLET_KEY}"}, json={
        "chain": "base", "to": deposit, "amount": "200", "token": USDC["base"][0],
        "private_key": created["private_keys"]["ethereum_and_base"]}).json()
    deposits = exchange.fetch_deposits("USDC")
    assert [d["status"] for d in deposits] == ["pending"] and deposits[0]["txid"] == sent["tx_hash"]
    assert binance.balances["USDC"] == Decimal(1000)
    network.clock.advance(network.delays["base"])
    deposits = exchange.fetch_deposits("USDC")
    assert [d["status"] for d in deposits] == ["ok"] and deposits[0]["amount"] == 200
    assert binance.balances["USDC"] == Decimal(1200)
    assert pf.wallet.balance("base", ours, "USDC") == Decimal(300)
