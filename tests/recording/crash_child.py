"""A process that records exchanges at a steady pace until it is killed (test_crash.py).

argv: data dir, key file. Prints `OBS <n>` whenever the first n exchanges have been observed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lunaroute.recording import Recorder, RecorderSettings
from tests.recording.helpers import KINDS, exchange


def main() -> None:
    data_dir, key_file = Path(sys.argv[1]), Path(sys.argv[2])
    settings = RecorderSettings(flush_interval_s=0.1, fsync="batch", encrypt=True, key_file=key_file)
    rec = Recorder(data_dir, settings)
    n = 0
    while True:
        for _ in range(10):
            rec.observe(exchange(n, KINDS[n % len(KINDS)]))
            n += 1
        print(f"OBS {n}", flush=True)
        time.sleep(0.05)


if __name__ == "__main__":
    main()
