"""`make lint`: ansible-lint (offline, production profile), antsibull-docs and antsibull-changelog lint,
and the consistency checks of .ci/: versions.py --check (tested ansible-core versions == claimed
ones == the EE's range), awx_forms.py --check (the AWX import file matches the credential type) and
presets_doc.py --check (the presets' defaults in the docs, the role spec and the module docs are those
of _rules.PRESETS).

Runs in the tools venv. ansible-lint with --offline does not install the collection, so a temporary
``ansible_collections/<ns>/<name>`` symlink to the checkout is put on ANSIBLE_COLLECTIONS_PATH (FQCNs
of our own modules resolve). Every linter runs even if an earlier one fails; the exit status is 1 if
any failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time


ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
BIN = os.path.dirname(os.path.abspath(sys.executable))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import testbed  # noqa: E402  pylint: disable=wrong-import-position


def main() -> int:
    base = tempfile.mkdtemp(prefix='creatio-lint-')
    try:
        collections = testbed.linked_collection(base)
        tree = testbed.collection_path(collections)
        env = dict(os.environ)
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': collections,
            'PATH': BIN + os.pathsep + env.get('PATH', ''),
            'ANSIBLE_LINT_SKIP_SCHEMA_UPDATE': '1',
            'NO_COLOR': '1',
            'ANSIBLE_NOCOLOR': '1',
        })
        steps = [
            ('ansible-lint', [os.path.join(BIN, 'ansible-lint'), '--offline', '--profile', 'production'], ROOT),
            ('antsibull-docs lint-collection-docs',
             [os.path.join(BIN, 'antsibull-docs'), 'lint-collection-docs', '--plugin-docs', tree], ROOT),
            ('antsibull-changelog lint', [os.path.join(BIN, 'antsibull-changelog'), 'lint'], ROOT),
            ('versions: MATRIX, requires_ansible, EE', [sys.executable, os.path.join(ROOT, '.ci', 'versions.py'), '--check'],
             ROOT),
            ('AWX import file', [sys.executable, os.path.join(ROOT, '.ci', 'awx_forms.py'), '--check'], ROOT),
            ('presets in the docs', [sys.executable, os.path.join(ROOT, '.ci', 'presets_doc.py'), '--check'], ROOT),
        ]
        failed = []
        for label, cmd, cwd in steps:
            started = time.monotonic()
            print('=== %s' % label, flush=True)
            rc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, check=False).returncode
            status = 'ok' if rc == 0 else 'FAILED rc=%d' % rc
            print('=== %s: %s (%.0f s)' % (label, status, time.monotonic() - started), flush=True)
            if rc != 0:
                failed.append(label)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if failed:
        print('lint FAILED: %s' % ', '.join(failed), flush=True)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
