"""A stand-in for `python -m tuneline <job> ... --json` in the job tests (no torch).

Invoked as `fake_job.py -m tuneline <kind> <args> --json --runs-dir D --run-id ID`: writes the
run folder like a real job (state.json, events.jsonl) and echoes events on stdout. `--model slow`
runs many steps (to be cancelled); the cancel file or SIGINT ends it as "cancelled".
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tuneline.jobs.events import EventWriter
from tuneline.jobs.runs import Run


def main(argv: list[str]) -> int:
    kind = argv[2]
    args = argv[3:]
    run = Run(Path(args[args.index("--runs-dir") + 1]) / args[args.index("--run-id") + 1])
    slow = "--model" in args and args[args.index("--model") + 1] == "slow"
    total = 400 if slow else 3
    run.update_state(kind=kind, state="running", pid=os.getpid(), started=time.time())
    with EventWriter(run.events_path, echo=True) as out:
        out.emit("start", run_id=run.id, kind=kind, argv=args)
        try:
            for step in range(1, total + 1):
                if run.cancel_requested():
                    raise KeyboardInterrupt
                time.sleep(0.05 if slow else 0.01)
                out.emit("progress", step=step, total=total, loss=round(2.0 / step, 4),
                         learning_rate=1e-4, tokens_per_second=1000.0, eta_seconds=float(total - step))
            run.update_state(state="completed")
            out.emit("end", status="completed")
            return 0
        except KeyboardInterrupt:
            run.update_state(state="cancelled")
            out.emit("end", status="cancelled")
            return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
