"""`make check`: the contributor's inner loop, a few minutes instead of `make test`'s half hour.

Steps, each run even if an earlier one failed, with their times:
  lint       ansible-lint, antsibull-docs and antsibull-changelog lint, the consistency checks (make lint)
  sanity     ansible-test sanity on one matrix entry (CHECK_MATRIX, default: the newest ansible-core)
  pytest     tests/unit, tests/simulator and a functional smoke (SMOKE below: real ansible-playbook runs
             against the simulator: a bootstrap with check, create, re-run and removal; one module's check/apply
             cycle; bad input refused before any request; no secret in verbose output, cache or sessions)
`make test` stays the full gate (every matrix entry, units, integration, the whole functional and
reliability suites, docs, build).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import versions  # noqa: E402  (.ci/versions.py: the Makefile's MATRIX)

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
SMOKE = (
    'tests/functional/test_role.py::test_bootstrap_check_create_rerun_and_remove',
    'tests/functional/test_oauth_client.py::test_check_apply_check_apply_is_idempotent',
    'tests/functional/test_oauth_client.py::test_bad_input_fails_before_any_request',
    'tests/functional/test_oauth_client.py::test_no_secret_in_verbose_output_cache_or_sessions',
)


def newest_entry() -> str:
    return '%s:%s' % max(versions.makefile_matrix(), key=lambda entry: tuple(int(p) for p in entry[0].split('.')))


def run(label: str, cmd: list[str], env: dict | None = None) -> tuple[str, int, float]:
    print('\n##### make check: %s' % label, flush=True)
    started = time.monotonic()
    rc = subprocess.run(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, check=False).returncode
    return label, rc, time.monotonic() - started


def main() -> int:
    t0 = time.monotonic()
    make = os.environ.get('MAKE', 'make')
    matrix = os.environ.get('CHECK_MATRIX') or newest_entry()
    workers = os.environ.get('PYTEST_WORKERS', '2')
    results = [
        run('lint', [make, '--no-print-directory', 'lint']),
        run('sanity (%s)' % matrix, [make, '--no-print-directory', 'sanity', 'MATRIX=%s' % matrix]),
        run('pytest: unit, simulator, functional smoke',
            [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-n', workers,
             'tests/unit', 'tests/simulator'] + list(SMOKE), env=dict(os.environ, CREATIO_TEST_REQUIRE_BAO='1')),
    ]
    print('\n##### make check: %.0f s in all' % (time.monotonic() - t0))
    for label, rc, took in results:
        print('  %-45s %-12s %5.0f s' % (label, 'ok' if rc == 0 else 'FAILED rc=%d' % rc, took))
    return 1 if any(rc for _label, rc, _took in results) else 0


if __name__ == '__main__':
    sys.exit(main())
