"""A plain Python agent loop that keeps a paper portfolio on its targets with trimtab.

Each step resumes an unfinished run, checks drift, records the check, and rebalances when the
policy says so, through trimtab's guardrails (stored plan, price re-check, caps, allow-lists,
approval, kill switch). A refusal comes back as a value: the loop logs it and waits.

    python examples/agent_loop.py --dir my-portfolio                 # every hour, forever
    python examples/agent_loop.py --iterations 2 --interval 0       # two steps, now
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import trimtab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="The portfolio's folder (created as a paper portfolio if new).")
    parser.add_argument("--iterations", type=int, default=0, help="Stop after this many steps (0: never).")
    parser.add_argument("--interval", type=float, default=3600.0, help="Seconds between steps.")
    args = parser.parse_args()

    folder = args.dir or Path(tempfile.mkdtemp(prefix="trimtab-agent-"))
    config = folder / "trimtab.toml"
    if not config.exists():
        trimtab.create_paper_portfolio(folder, targets={"BTC": 0.5, "ETH": 0.3, "USDC": 0.2},
                                       holdings={"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
                                       prices={"BTC": 65000, "ETH": 2000})
    bot = trimtab.Rebalancer(config)
    for step in itertools.count(1):
        result = bot.step()
        print(f"step {step}: {result.summary()}", flush=True)
        if args.iterations and step >= args.iterations:
            break
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
