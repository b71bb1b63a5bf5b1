"""A test server's workers end with the server (conftest.serve_app): workers outlive a real server by design,
so the helper finds them below the server's process and ends them — including one that ignores SIGTERM."""

import subprocess
import sys
import time

from conftest import _descendants, _end
from resnet_core.store.run_store import pid_alive

TREE = """
import signal, subprocess, sys, time
stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
subprocess.Popen([sys.executable, "-c", stubborn])
print("ready", flush=True)
time.sleep(600)
"""


def test_the_processes_below_a_server_are_found_and_ended():
    parent = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # the stubborn child has set its handler
        workers = _descendants(parent.pid)
        assert len(workers) == 2 and all(pid_alive(pid) for pid in workers)
        parent.terminate()
        parent.wait(timeout=10)
        assert all(pid_alive(pid) for pid in workers)  # orphans, as a real server's workers would be
        _end(workers)
        assert not any(pid_alive(pid) for pid in workers)
    finally:
        parent.kill()
