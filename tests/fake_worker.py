"""A stand-in training worker for the job runner's tests: `python fake_worker.py MODE ROOT RUN_ID`.

slow: writes a step every 20 ms until it has 100 or is asked to stop, through the store like a real one.
forever: the same until it is asked to stop (an old server's worker that outlives it).
exit: exits with code 3 without a word.

`python fake_worker.py standby ROOT` is a stand-in standby worker (worker.standby): it waits for a run id on
stdin, then, a second later, works as `slow` on that run, its output in the run's worker.log;
`broken-standby` exits at once with code 4 and a message on stderr (a standby that cannot start: an import
error, say).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resnet_core.store.run_store import RunStore  # noqa: E402


def slow(root: str, run_id: str, steps: int = 100) -> None:
    store = RunStore(root)
    store.set_status(run_id, "running", pid=os.getpid())
    for step in range(1, steps + 1):
        if store.stop_requested(run_id):
            store.set_status(run_id, "stopped")
            return
        store.add_steps(run_id, [{"step": step, "loss": 1.0 / step}])
        time.sleep(0.02)
    store.set_status(run_id, "completed")


def standby(root: str) -> None:
    run_id = sys.stdin.readline().strip()
    if not run_id:
        return
    (Path(root) / run_id).mkdir(parents=True, exist_ok=True)
    log = os.open(Path(root) / run_id / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    print(f"standby {os.getpid()} took run {run_id}", flush=True)
    time.sleep(1.0)  # as a real run's start (data, net): its first step comes a while after
    slow(root, run_id)


if __name__ == "__main__":
    if sys.argv[1] == "standby":
        standby(sys.argv[2])
        sys.exit()
    if sys.argv[1] == "broken-standby":
        print("ImportError: no module named torch (a stand-in)", file=sys.stderr)
        sys.exit(4)
    mode, root, run_id = sys.argv[1:4]
    if mode == "exit":
        os._exit(3)
    slow(root, run_id, steps=10**9 if mode == "forever" else 100)
