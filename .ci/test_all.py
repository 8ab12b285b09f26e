"""`make test`: every test, in order, then the pytest suite last.

Steps: lint, build, docs (the docs site, offline, warnings as errors), ansible-test (sanity, units, integration per matrix entry), then one pytest run of
tests/unit, tests/simulator and tests/functional so that pytest's summary line closes the log.
Every step runs even if an earlier one failed (one CI run shows all problems); a summary of the
earlier steps is printed before the final pytest run, and the exit status is 1 if any step failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
STEPS = ('lint', 'build', 'docs', 'ansible-test')
FINAL = 'pytest'


def make(target: str) -> tuple[int, float]:
    started = time.monotonic()
    print('\n##### make %s' % target, flush=True)
    cmd = [os.environ.get('MAKE', 'make'), '--no-print-directory', target]
    rc = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, check=False).returncode
    return rc, time.monotonic() - started


def main() -> int:
    t0 = time.monotonic()
    results = []
    for step in STEPS:
        rc, took = make(step)
        results.append((step, rc, took))
    print('\n##### make test: steps before the final pytest run (%.0f s so far)' % (time.monotonic() - t0))
    for step, rc, took in results:
        print('  %-14s %-12s %5.0f s' % (step, 'ok' if rc == 0 else 'FAILED rc=%d' % rc, took))
    failed = [step for step, rc, _took in results if rc != 0]
    if failed:
        print('  => FAILED: %s (make test will exit 1 whatever pytest says)' % ', '.join(failed))
    sys.stdout.flush()
    rc, _took = make(FINAL)
    return 1 if failed or rc != 0 else 0


if __name__ == '__main__':
    sys.exit(main())
