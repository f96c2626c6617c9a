"""The wallet fake's chain tables (contract §4.1, §4.4): natives, tokens, capabilities, explorers."""

from __future__ import annotations

import secrets
from decimal import Decimal

EVM = ("ethereum", "base", "arbitrum", "bsc", "hyperevm")

# chain -> (native symbol, decimals, smallest-unit field of /balance)
NATIVE = {
    "ethereum": ("ETH", 18, "wei"), "base": ("ETH", 18, "wei"), "arbitrum": ("ETH", 18, "wei"),
    "bsc": ("BNB", 18, "wei"), "hyperevm": ("HYPE", 18, "wei"), "solana": ("SOL", 9, "lamports"),
    "bitcoin": ("BTC", 8, "satoshis"), "tron": ("TRX", 6, "sun"), "monero": ("XMR", 12, "piconero"),
}

# /tokens lists (§4.4): chain -> symbol -> (contract, decimals, name)
TOKENS = {
    "base": {
        "USDC": ("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 6, "USD Coin"),
        "USDT": ("0xfde4C96c8593536E31F229EA8f37b2ADa2699bb2", 6, "Tether USD"),
        "DAI": ("0x50c5725949A6F0c72E6C4a641F24049A917DB0Cb", 18, "Dai Stablecoin"),
        "WETH": ("0x4200000000000000000000000000000000000006", 18, "Wrapped Ether"),
        "cbBTC": ("0xcbB7C0000aB88B473b1f5aFd9ef808440eed33Bf", 8, "Coinbase Wrapped BTC"),
        "cbETH": ("0x2Ae3F1Ec7F1F5012CFEab0185bfc7aa3cf0DEc22", 18, "Coinbase Wrapped Staked ETH"),
    },
    "ethereum": {
        "USDC": ("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6, "USD Coin"),
        "USDT": ("0xdAC17F958D2ee523a2206206994597C13D831ec7", 6, "Tether USD"),
        "DAI": ("0x6B175474E89094C44Da98b954EedeAC495271d0F", 18, "Dai Stablecoin"),
        "WBTC": ("0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", 8, "Wrapped BTC"),
        "WETH": ("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", 18, "Wrapped Ether"),
        "LINK": ("0x514910771AF9Ca656af840dff83E8264EcF986CA", 18, "ChainLink Token"),
    },
}

# /usdc-balance (§4.4): chain -> (contract, decimals)
USDC = {
    "ethereum": ("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6),
    "base": ("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 6),
    "arbitrum": ("0xaf88d065e77c8cC2239327C5EDb3A432268e5831", 6),
    "bsc": ("0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d", 18),
    "solana": ("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 6),
    "tron": ("TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8", 6),
}
USDT = {"ethereum": ("0xdAC17F958D2ee523a2206206994597C13D831ec7", 6),
        "arbitrum": ("0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9", 6),
        "bsc": ("0x55d398326f99059fF775485246999027B3197955", 18),
        "tron": ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 6)}

BALANCE_CHAINS = ("ethereum", "base", "solana", "bitcoin", "tron", "monero")  # /balance (§4.1)
SEND_CHAINS = ("ethereum", "base", "solana", "tron", "monero")  # bitcoin is 501
SWAP_CHAINS = ("ethereum", "base", "arbitrum", "bsc", "hyperevm", "solana", "bitcoin", "monero")

EXPLORER = {
    "ethereum": "https://etherscan.io", "base": "https://basescan.org", "arbitrum": "https://arbiscan.io",
    "bsc": "https://bscscan.com", "hyperevm": "https://hyperevmscan.io", "solana": "https://solscan.io",
    "bitcoin": "https://mempool.space", "tron": "https://tronscan.org/#", "monero": "https://xmrchain.net",
}

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def explorer(chain: str, kind: str, ref: str) -> str:
    """``explorer("base", "address", "0xAb")`` -> "https://basescan.org/address/0xAb"."""
    if chain == "solana" and kind == "address":
        kind = "account"
    return f"{EXPLORER[chain]}/{kind}/{ref}"


def b58(n: int) -> str:
    return "".join(secrets.choice(_B58) for _ in range(n))


def new_address(chain: str) -> str:
    """A fresh address in the chain's usual form (not a valid checksum: the fake never checks one)."""
    if chain in EVM:
        return "0x" + secrets.token_hex(20)
    return {"solana": lambda: b58(44), "bitcoin": lambda: "bc1q" + secrets.token_hex(19),
            "tron": lambda: "T" + b58(33), "monero": lambda: "4" + b58(94)}[chain]()


def new_tx_hash(chain: str) -> str:
    return b58(88) if chain == "solana" else ("0x" if chain in EVM else "") + secrets.token_hex(32)


def key(chain: str, address: str) -> str:
    """Balance keys: EVM addresses are case-insensitive, others are not."""
    return address.lower() if chain in EVM else address


def decimal_string(value: Decimal) -> str:
    """Decimal('0.250') -> '0.25', Decimal('0') -> '0' (no exponent)."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"
