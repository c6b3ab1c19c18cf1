"""Build keruen/data/screening_word_frequencies.csv from the full OFAC SDN list (deterministic).

Run: `.venv/bin/python tests/screening/make_word_frequencies.py [/work/shared/data]`. For each
skeleton word, the number of OFAC names (primary names and aliases) that contain it, and the
number of entries (an entry's aliases count once) that do; words in fewer than 8 names and
fewer than 3 entries are left out (they weigh fully and name at most two entries anyway).
Re-run when the list or the skeleton rules change.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from keruen.screening import loaders
from keruen.screening.text import analyse

OUT = Path(__file__).resolve().parents[2] / "keruen" / "data" / "screening_word_frequencies.csv"
MIN_NAMES = 8
MIN_ENTRIES = 3


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
    counts: Counter[str] = Counter()
    entries: Counter[str] = Counter()
    names = n_entries = 0
    for entry in loaders.ofac(data / "ofac_sdn.csv").entries:
        n_entries += 1
        words: set[str] = set()
        for name in entry.names:
            names += 1
            skeleton = set(analyse(name).skeleton)
            counts.update(skeleton)
            words |= skeleton
        entries.update(words)
    rows = sorted(
        (w, n, entries[w]) for w, n in counts.items() if n >= MIN_NAMES or entries[w] >= MIN_ENTRIES
    )
    with OUT.open("w", encoding="utf-8") as f:
        f.write(f"word,names,entries\n_total,{names},{n_entries}\n")
        f.writelines(f"{w},{n},{e}\n" for w, n, e in rows)
    print(f"{len(rows)} words of {names} names -> {OUT}")


if __name__ == "__main__":
    main()
