"""PNG plots of a ``run_all.py`` result (matplotlib, Agg backend)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import propfind  # noqa: E402
import small_files  # noqa: E402


def _errors(values: list[list[float]]) -> tuple[list[float], list[list[float]]]:
    meds = [statistics.median(v) for v in values]
    low = [m - min(v) for m, v in zip(meds, values, strict=True)]
    high = [max(v) - m for m, v in zip(meds, values, strict=True)]
    return meds, [low, high]


def propfind_scaling(result: dict[str, Any], path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 7.2))
    cells = result["latency_ms"]["named"]
    for key, (label, _) in propfind.SYSTEMS.items():
        sizes = [int(s) for s in cells if key in cells[s] and cells[s][key]]
        if not sizes:
            continue
        meds, err = _errors([cells[str(s)][key] for s in sizes])
        left.errorbar(sizes, meds, yerr=err, marker="o", capsize=3, label=label)
    left.set(
        xscale="log",
        yscale="log",
        xlabel="entries in the collection",
        ylabel="latency, ms (median, min–max)",
        title="PROPFIND Depth:1, 4 named properties",
    )
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    zero = []
    for key, counts in result["requests"].items():
        sizes = sorted(int(s) for s in counts)
        if not any(counts.values()):  # nothing to draw on a log scale
            zero.append(propfind.SYSTEMS[key][0])
            continue
        right.plot(
            sizes, [counts[str(s)] for s in sizes], marker="o", label=propfind.SYSTEMS[key][0]
        )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="entries in the collection",
        ylabel="backend requests per PROPFIND",
        title="Backend requests (iRODS API / Swift HTTP)",
    )
    if zero:
        right.text(
            0.0, -0.13, "no backend requests:\n" + "\n".join(zero),
            transform=right.transAxes, fontsize=7, va="top",
        )  # fmt: skip
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def throughput_ratios(results: list[dict[str, Any]], path: Path) -> None:
    fig, axes = plt.subplots(1, len(results), figsize=(7 * len(results), 5.5), squeeze=False)
    for ax, item in zip(axes[0], results, strict=True):
        labels = list(item["ratios"])
        ys = range(len(labels))
        for offset, verb, colour in ((-0.2, "put", "tab:blue"), (0.2, "get", "tab:orange")):
            meds, err = _errors([item["ratios"][k][verb] for k in labels])
            ax.barh(
                [y + offset for y in ys],
                meds,
                height=0.38,
                xerr=err,
                capsize=2,
                color=colour,
                label=verb.upper(),
            )
        for y, key in zip(ys, labels, strict=True):
            target = item["ratios"][key]["target"]
            if target is not None:
                ax.plot([target, target], [y - 0.45, y + 0.45], color="red", linewidth=1.5)
        ax.set_yticks(list(ys), labels, fontsize=7)
        ax.invert_yaxis()
        ax.axvline(1.0, color="grey", linewidth=0.8)
        size = item["size_mib"]
        ax.set(
            xlabel="throughput ratio (median, min–max; red: target)",
            title=f"{'1 GiB' if size == 1024 else f'{size} MiB'}: ratios within a round",
        )
        ax.legend(fontsize=8)
        ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def small_ops(result: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(10, 4.8))
    keys = list(result["passes"])
    groups = [(key, count) for key in keys for count in result["passes"][key]]
    width = 0.27
    for index, verb in enumerate(small_files.VERBS):
        values = [small_files.ops(result["passes"][k][c], verb) for k, c in groups]
        meds, err = _errors(values)
        ax.bar(
            [i + (index - 1) * width for i in range(len(groups))],
            meds,
            width,
            yerr=err,
            capsize=2,
            label=verb,
        )
    ax.set_xticks(
        range(len(groups)),
        [f"{k}\n{c} client(s)" for k, c in groups],
        fontsize=6,
    )
    ax.set(
        yscale="log", ylabel="operations per second", title=f"{result['files']:,} files of 4 KiB"
    )
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw(results: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    propfind_scaling(results["propfind"], folder / "propfind_scaling.png")
    throughput_ratios(results["throughput"], folder / "throughput_ratios.png")
    small_ops(results["small"], folder / "small_files.png")
