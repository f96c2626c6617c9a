"""Charts as PNG files (matplotlib, no display needed): one backtest, and a sweep's frontier."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # a sweep's frontier chart must not import the simulator (and so pandas)
    from trimtab.backtest.simulator import BacktestResult

_MAX_POINTS = 4000


def _pyplot():
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def backtest_chart(result: BacktestResult, path: str | os.PathLike[str]) -> Path:
    """Write value (rebalances marked), weights and pre-trade drift (with the band) to ``path``."""
    plt = _pyplot()
    step = max(1, len(result.values) // _MAX_POINTS)
    index = result.index[::step]
    fig, (value_ax, weight_ax, drift_ax) = plt.subplots(3, 1, figsize=(11, 9), sharex=True,
                                                         gridspec_kw={"height_ratios": [2, 1.3, 1]})
    quote = result.spec.quote
    value_ax.plot(index, result.values[::step], lw=1, color="#1f4e79", label="portfolio value")
    bars = [r.bar for r in result.rebalances]
    if bars:
        value_ax.scatter(result.index[bars], result.values[bars], s=8, color="#c0392b", zorder=3,
                         label=f"rebalances ({len(bars)})")
    value_ax.set_ylabel(f"value ({quote})")
    value_ax.set_title(f"{result.spec.describe()}: final {result.metrics.final_value:,.0f} {quote}")
    value_ax.legend(loc="upper left")
    held = [i for i in range(len(result.assets)) if np.nanmax(result.weights[:, i]) > 1e-6]
    colours = plt.get_cmap("tab20" if len(held) > 10 else "tab10").colors
    weight_ax.stackplot(index, (result.weights[::step, held] * 100).T, labels=[result.assets[i] for i in held],
                        colors=colours[: len(held)], alpha=0.85)
    weight_ax.set_ylabel("weight after trading (%)")
    weight_ax.set_ylim(0, 100)
    weight_ax.legend(loc="upper left", ncol=min(len(result.assets), 6), fontsize=8)
    drift_ax.plot(index, _window_max(result.drift, step) * 100, lw=0.8, color="#555555",
                  label="max drift before trading" + (f" (max of each {step} bars)" if step > 1 else ""))
    band = result.spec.policy.band
    if band is not None:
        drift_ax.axhline(band * 100, color="#c0392b", ls="--", lw=1, label=f"band {band * 100:.1f}%")
    drift_ax.set_ylabel("drift (%)")
    drift_ax.legend(loc="upper left")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _window_max(series: np.ndarray, step: int) -> np.ndarray:
    """The largest value in each run of ``step`` bars (so a thinned line keeps its peaks)."""
    if step == 1:
        return series
    padded = np.full(-(-len(series) // step) * step, np.nan)
    padded[: len(series)] = series
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN window (bar 0 alone) gives NaN
        return np.nanmax(padded.reshape(-1, step), axis=1)


#: Up to this many configurations every point is labelled; above it, the frontier's points only.
LABEL_ALL_UP_TO = 30


def point_label(row: dict, *, with_policy: bool = False) -> str:
    """A sweep row's configuration in a few words: band, schedule and mode (and the policy when
    the sweep has several), e.g. ``band 5% monthly target``."""
    parts = [str(row["policy"])] if with_policy else []
    if row.get("band") is not None:
        parts.append(f"band {row['band'] * 100:g}%")
    if row.get("relative_band") is not None:
        parts.append(f"rel. {row['relative_band'] * 100:g}%")
    if row.get("schedule"):
        parts.append(str(row["schedule"]))
    parts.append(str(row["mode"]))
    return " ".join(parts)


def frontier_chart(rows: Sequence[dict], path: str | os.PathLike[str], *, hold: Sequence[dict] = ()) -> Path:
    """Fee drag per year against max drift, one labelled point per configuration (band, schedule,
    mode), colour = annual return, buy and hold as a star; the lower-left edge is the frontier a
    user chooses from."""
    plt = _pyplot()
    fig = frontier_figure(rows, hold=hold)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def frontier_figure(rows: Sequence[dict], *, hold: Sequence[dict] = ()):  # type: ignore[no-untyped-def]
    """The frontier chart as a matplotlib figure (``frontier_chart`` writes it); every point with
    ``LABEL_ALL_UP_TO`` configurations or fewer is labelled, else the frontier's points."""
    plt = _pyplot()
    drift = np.array([r["max_drift"] for r in rows], dtype=float) * 100
    drag = np.array([r["fee_drag_per_year"] for r in rows], dtype=float) * 100
    ret = np.array([r["annual_return"] for r in rows], dtype=float) * 100
    fig, ax = plt.subplots(figsize=(10, 6.5))
    points = ax.scatter(drift, drag, c=ret, cmap="viridis", s=18)
    fig.colorbar(points, ax=ax, label="annual return (%)")
    order = np.argsort(drift)
    best, frontier = np.inf, []
    for i in order:
        if drag[i] < best:
            best = drag[i]
            frontier.append(i)
    ax.plot(drift[frontier], drag[frontier], color="#c0392b", lw=1, label="frontier (least drag for its drift)")
    with_policy = len({r["policy"] for r in rows}) > 1
    labelled = range(len(rows)) if len(rows) <= LABEL_ALL_UP_TO else frontier
    for i in labelled:
        ax.annotate(point_label(rows[i], with_policy=with_policy), (drift[i], drag[i]), xytext=(4, 3),
                    textcoords="offset points", fontsize=7, color="#333333")
    for row in hold:
        x, y = row["max_drift"] * 100, row["fee_drag_per_year"] * 100
        ax.scatter([x], [y], marker="*", s=120, color="#e67e22", zorder=3)
        ax.annotate(f"buy and hold ({row['annual_return'] * 100:.1f}%/yr)", (x, y), xytext=(-6, 5), ha="right",
                    textcoords="offset points", fontsize=7, color="#e67e22")
    ax.set_xlabel("max drift (%)")
    ax.set_ylabel("fee drag per year (%)")
    shown = "every point labelled" if len(rows) <= LABEL_ALL_UP_TO else "frontier points labelled"
    ax.set_title(f"{len(rows)} configurations ({shown}: band, schedule, mode)")
    ax.legend()
    return fig
