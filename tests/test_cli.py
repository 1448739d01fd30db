"""The command's entry point."""

from __future__ import annotations

import subprocess
import sys

# An object whose finalizer is interrupted: Python cannot let that exception out, as with a
# Ctrl-C that lands in the logging lock's fork callback.
SWALLOWED_INTERRUPT = """
import sys, time
from pipeline.cli import _interrupt_again
sys.unraisablehook = _interrupt_again

class Finalized:
    def __del__(self):
        raise KeyboardInterrupt

try:
    Finalized()
    for _ in range(100):
        time.sleep(0.01)
except KeyboardInterrupt:
    print("stopped")
    sys.exit(130)
print("ran on")
"""


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_an_interrupt_python_had_to_swallow_still_stops_the_run_without_a_traceback():
    done = run_python(SWALLOWED_INTERRUPT)
    assert done.stdout.strip() == "stopped" and done.returncode == 130
    assert "Traceback" not in done.stderr


def test_without_the_hook_python_prints_the_traceback_and_runs_on():
    plain = SWALLOWED_INTERRUPT.replace("sys.unraisablehook = _interrupt_again", "")
    done = run_python(plain)
    assert done.stdout.strip() == "ran on" and "Traceback" in done.stderr
