"""Create or refresh the tools venv (idempotent).

The stamp file holds the sha256 of the requirements file plus the interpreter version; the venv is
(re)installed only when that changes. Standard library only: it runs on the bare python3.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time

MIN_PYTHON = (3, 11)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--venv', required=True)
    parser.add_argument('--requirements', required=True)
    parser.add_argument('--stamp', required=True)
    args = parser.parse_args()

    if sys.version_info < MIN_PYTHON:
        print('ERROR: the tools venv needs Python %d.%d+, %s is %s' % (
            MIN_PYTHON + (sys.executable, sys.version.split()[0])), file=sys.stderr)
        return 2

    with open(args.requirements, 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    wanted = '%s python=%d.%d\n' % (digest, sys.version_info[0], sys.version_info[1])
    venv_python = os.path.join(args.venv, 'bin', 'python')

    if os.path.exists(args.stamp) and os.path.exists(venv_python):
        with open(args.stamp, encoding='utf-8') as handle:
            if handle.read() == wanted:
                os.utime(args.stamp)  # newer than the requirements file again: make stops asking
                return 0

    start = time.monotonic()
    print('=== tools venv: installing %s into %s (python %s)' % (
        args.requirements, args.venv, sys.version.split()[0]), flush=True)
    if os.path.exists(args.stamp):
        os.unlink(args.stamp)
    if os.path.exists(venv_python):
        # reuse the venv (pip resolves the changed requirements); rebuild if the interpreter changed
        result = subprocess.run([venv_python, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0 or result.stdout.strip() != '%d.%d' % sys.version_info[:2]:
            shutil.rmtree(args.venv)
    if not os.path.exists(venv_python):
        subprocess.check_call([sys.executable, '-m', 'venv', args.venv])
    pip = [venv_python, '-m', 'pip', '--disable-pip-version-check']
    subprocess.check_call(pip + ['install', '-q', '--upgrade', 'pip'])
    subprocess.check_call(pip + ['install', '-q', '--upgrade', '-r', args.requirements])
    subprocess.check_call(pip + ['check'], stdout=subprocess.DEVNULL)
    with open(args.stamp, 'w', encoding='utf-8') as handle:
        handle.write(wanted)
    print('=== tools venv ready in %.0f s' % (time.monotonic() - start), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
