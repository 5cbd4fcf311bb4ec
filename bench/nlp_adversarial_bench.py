"""Report reading on adversarial text: time grows linearly with length (1k, 10k and 100k characters).

Run: uv run python bench/nlp_adversarial_bench.py [--repeat 5]
Each text repeats one pattern up to the length: run-on negations and hedges in one sentence, a word without spaces,
dense level and side mentions, headings and level headings, hard-wrapped lines, punctuation runs. Times are CPU
seconds of this process (the machine is shared), the best of `--repeat` runs, sizes interleaved so that each size
meets the same warm caches; the last column must stay within 10x (linear: 100k is ten times 10k).
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from fbss.nlp.extract import extract
from fbss.nlp.pipeline import get_pipeline

PATTERNS = {
    "run-on negations": "no evidence of no recurrent herniation or no stenosis at L4-5 without ruling out ",
    "nested hedges": "possible probable questionable may represent cannot exclude recurrent herniation versus scar ",
    "no spaces": "stenosis",
    "levels and sides": "L1 through S1, L4-L5 and L5-S1 left right bilateral foraminal stenosis at L3/4 ",
    "headings": "FINDINGS:\nL4-5: No stenosis.\nIMPRESSION:\nPossible recurrent herniation\n\nHISTORY: prior fusion\n",
    "hard-wrapped": "no recurrent herniation or\nfluid collection and\nno screw loosening,\n",
    "punctuation": "(((--;;;;....,,,,L4-5",
}
SIZES = (1_000, 10_000, 100_000)


def text_of(pattern: str, size: int) -> str:
    return (pattern * (size // len(pattern) + 1))[:size]


def cpu_seconds(text: str) -> float:
    started = time.process_time()
    extract(text)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="runs per size; the best is kept")
    args = parser.parse_args()
    get_pipeline()
    extract(text_of(PATTERNS["headings"], 5_000))  # warm-up
    table = Table("text", *(f"{size // 1000}k chars (s)" for size in SIZES), "100k / 10k", title="CPU seconds")
    worst = 0.0
    for name, pattern in PATTERNS.items():
        best = dict.fromkeys(SIZES, float("inf"))
        for _ in range(args.repeat):
            for size in SIZES:
                best[size] = min(best[size], cpu_seconds(text_of(pattern, size)))
        ratio = best[100_000] / best[10_000]
        worst = max(worst, ratio)
        table.add_row(name, *(f"{best[size]:.3f}" for size in SIZES), f"{ratio:.1f}x")
    console = Console()
    console.print(table)
    console.print(f"largest 100k/10k ratio: {worst:.1f}x ({'linear' if worst <= 10 else 'NOT linear'})")


if __name__ == "__main__":
    main()
