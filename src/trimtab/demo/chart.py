"""The demo's chart: weights against their targets, and drift against the bands, rebalances marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np


def draw_chart(path: Path, times: Sequence[datetime], weights: np.ndarray, drift: np.ndarray,
               marks: Sequence[tuple[int, str]], targets: Mapping[str, float], *, bands: tuple[float, float]) -> Path:
    """Write a PNG at ``path``: top, each asset's weight (targets dashed); bottom, the largest
    drift with the band and emergency band; a tick for every rebalance, coloured by trigger."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.array([t.replace(tzinfo=None) for t in times], dtype="datetime64[s]")  # UTC, naive for numpy
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7), sharex=True, height_ratios=(3, 2))
    for column, (asset, target) in enumerate(targets.items()):
        line = top.plot(x, weights[:, column] * 100, linewidth=0.7, label=f"{asset} (target {target:.0%})")[0]
        top.axhline(target * 100, color=line.get_color(), linestyle="--", linewidth=0.8)
    top.set_ylabel("weight (%)")
    top.legend(loc="upper left", fontsize=8)
    top.set_title("trimtab demo: BTC/ETH/USDC 50/30/20, hourly checks, 5% band, 15% emergency band, monthly")
    bottom.plot(x, drift * 100, color="black", linewidth=0.6, label="largest drift")
    bottom.axhline(bands[0] * 100, color="orange", linestyle="--", linewidth=0.8, label=f"band {bands[0]:.0%}")
    bottom.axhline(bands[1] * 100, color="red", linestyle="--", linewidth=0.8, label=f"emergency {bands[1]:.0%}")
    colours = {"schedule": "tab:blue", "band": "tab:orange", "emergency_band": "tab:red"}
    for trigger, colour in colours.items():
        at = [x[i] for i, t in marks if t == trigger]
        if at:
            bottom.scatter(at, [drift[i] * 100 for i, t in marks if t == trigger], s=10, color=colour,
                           zorder=3, label=f"rebalance ({trigger})")
    bottom.set_ylabel("drift (%)")
    bottom.legend(loc="upper left", fontsize=8, ncols=3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
