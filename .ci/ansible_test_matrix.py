"""Run ansible-test (sanity / units / integration) over a matrix of ansible-core versions, offline.

For every ``CORE:PYTHON`` entry of the matrix (default: the Makefile's ``MATRIX``, read through
.ci/versions.py, the one place where the tested ansible-core versions are listed):

* find a working ``pythonX.Y`` (PATH first, then pyenv versions; pyenv shims of inactive versions
  exit 127, so every candidate is executed once). Missing: use another controller Python of that
  ansible-core that is there (a ``FALLBACK:`` line), else print a ``SKIP:`` line and go on. Under CI
  (``CI=true``, as .ci/run is run) a skipped entry fails the run: a claimed ansible-core would go
  untested;
* keep a venv ``.venvs/core-<CORE>`` with ``ansible-core==<CORE>.*`` (rebuilt only when the
  interpreter or the pin changes);
* check that PYTHON is one of that ansible-test's controller Pythons, and that the table of
  .ci/versions.py says the same (the EE's Python is chosen from that table);
* give ansible-test a private HOME (``.venvs/ansible-test-home``, with the user's pip config and pip
  cache linked in): its unlocked venv cache ``~/.ansible/test/venv`` is then not shared with other
  ansible-test runs on the machine;
* write there the offline stand-in for ``get-pip.py`` that ansible-test would otherwise download
  (``~/.ansible/test/cache/get_pip_<pip version>.py``, unless a real get-pip.py is already there);
* copy the collection (git-tracked plus untracked, non-ignored files) into a real directory
  ``.venvs/ansible-test/core-<CORE>/ansible_collections/<ns>/<name>`` (ansible-test rejects
  symlinked trees). The copy gets its own empty git repository so that ansible-test lists exactly
  the copied, non-ignored files and never walks up to this repository's ``.git``. The copy's
  ``tests/output`` is kept between runs (ansible-test's delegation venvs live there: warm runs);
* run ``ansible-test <command> --venv --python X.Y`` there, with ``pythonX.Y`` links to real
  interpreters first on PATH.

Exit status: 0 when every command that ran passed (skipped entries fail the run only under CI), 1 otherwise.
Standard library only.
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import versions  # noqa: E402  (.ci/versions.py: the Makefile's MATRIX and the controller Python table)

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
DEFAULT_MATRIX = ' '.join('%s:%s' % entry for entry in versions.makefile_matrix())
COMMANDS = ('sanity', 'units', 'integration')
TARGET_PYTHONS = ('3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14', '3.15')
# never copied into the ansible-test tree, whatever git says
COPY_EXCLUDE_TOP = {'.git', '.venv', '.venvs', 'venv', 'build', 'dist', '.ansible', 'collections', '.pytest_cache'}
COPY_EXCLUDE_ANY = {'__pycache__', '.pytest_cache'}

GET_PIP_SHIM = '''\
"""Offline stand-in for get-pip.py, written by creatio.oauth's .ci/ansible_test_matrix.py."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '-q', '--upgrade', '--disable-pip-version-check'] + args)
if '--no-setuptools' in sys.argv:
    subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '-y', '-q', 'setuptools'],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''

SHIM_MARKER = 'written by creatio.oauth'

PROBE = 'import ssl, sys, venv, ensurepip; print(sys.executable); print("%d.%d" % sys.version_info[:2])'

T0 = time.monotonic()


def say(message: str) -> None:
    print('=== [%4.0fs] %s' % (time.monotonic() - T0, message), flush=True)


def galaxy_name() -> tuple[str, str]:
    """Read namespace and name from galaxy.yml without needing PyYAML."""
    values = {}
    with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as handle:
        for line in handle:
            match = re.match(r'^(namespace|name):\s*["\']?([A-Za-z0-9_]+)', line)
            if match:
                values.setdefault(match.group(1), match.group(2))
    return values['namespace'], values['name']


def probe_python(candidate: str, version: str) -> str | None:
    """Return the real executable of a working pythonX.Y, or None."""
    try:
        result = subprocess.run([candidate, '-c', PROBE], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.split()
    if result.returncode != 0 or len(lines) != 2 or lines[1] != version:
        return None
    return os.path.realpath(lines[0])


def version_key(path: str) -> tuple[int, ...]:
    match = re.search(r'/versions/(\d+)\.(\d+)\.(\d+)', path)
    return tuple(int(x) for x in match.groups()) if match else (0, 0, 0)


def find_python(version: str) -> str | None:
    candidates = []
    found = shutil.which('python' + version)
    if found:
        candidates.append(found)
    pyenv_root = os.environ.get('PYENV_ROOT') or os.path.expanduser('~/.pyenv')
    pyenv = sorted(glob.glob(os.path.join(pyenv_root, 'versions', version + '.*', 'bin', 'python' + version)),
                   key=version_key, reverse=True)
    candidates.extend(pyenv)
    candidates.extend(['/usr/local/bin/python' + version, '/usr/bin/python' + version])
    for candidate in candidates:
        if os.path.exists(candidate):
            real = probe_python(candidate, version)
            if real:
                return real
    return None


def make_pybin(pybin: str) -> dict[str, str]:
    """A folder of pythonX.Y links to real interpreters (shadows pyenv shims that exit 127)."""
    os.makedirs(pybin, exist_ok=True)
    found = {}
    for version in TARGET_PYTHONS:
        link = os.path.join(pybin, 'python' + version)
        if os.path.lexists(link):
            os.unlink(link)
        real = find_python(version)
        if real:
            os.symlink(real, link)
            found[version] = real
    return found


def run(cmd: list[str], **kwargs) -> None:
    subprocess.run(cmd, check=True, **kwargs)


def ensure_core_venv(venv: str, core: str, python: str) -> None:
    stamp = os.path.join(venv, '.stamp')
    wanted = json.dumps({'core': core, 'python': python})
    if os.path.exists(stamp) and os.path.exists(os.path.join(venv, 'bin', 'ansible-test')):
        with open(stamp, encoding='utf-8') as handle:
            if handle.read() == wanted:
                return
    say('venv %s: ansible-core==%s.* on %s' % (venv, core, python))
    if os.path.exists(venv):
        shutil.rmtree(venv)
    run([python, '-m', 'venv', venv])
    pip = [os.path.join(venv, 'bin', 'python'), '-m', 'pip', '--disable-pip-version-check']
    run(pip + ['install', '-q', '--upgrade', 'pip'])
    run(pip + ['install', '-q', 'ansible-core==%s.*' % core])
    with open(stamp, 'w', encoding='utf-8') as handle:
        handle.write(wanted)


def make_test_home(home: str) -> None:
    """A private HOME for ansible-test: its venv cache (~/.ansible/test) is then ours alone.

    ansible-test builds its per-test venvs in $HOME/.ansible/test/venv without locking; two runs on
    one machine (another checkout, another engineer) building the same venv at once corrupt it.
    The user's pip configuration and pip cache are linked in, so pip behaves as usual.
    """
    for rel in ('.config/pip', '.pip', '.cache/pip', '.pydistutils.cfg'):
        real = os.path.join(os.path.expanduser('~'), rel)
        link = os.path.join(home, rel)
        if os.path.exists(real) and not os.path.lexists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(real, link)
    os.makedirs(os.path.join(home, '.ansible', 'test', 'cache'), exist_ok=True)


def write_get_pip_shim(venv: str, home: str) -> str:
    """Write the get-pip stand-in for the pip version this ansible-test pins; return its path."""
    code = ('import pathlib, re, ansible_test\n'
            'src = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()\n'
            'print(re.search(r"pip=\'([0-9.]+)\'", src).group(1))\n')
    pip_version = subprocess.run([os.path.join(venv, 'bin', 'python'), '-c', code], capture_output=True,
                                 text=True, check=True).stdout.strip()
    cache = os.path.join(home, '.ansible', 'test', 'cache')
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, 'get_pip_%s.py' % pip_version.replace('.', '_'))
    # a real get-pip.py (cached on an online machine) works offline too: keep it; refresh our own shim
    current = None
    if os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            current = handle.read()
    if current is None or (current != GET_PIP_SHIM and SHIM_MARKER in current):
        with open(path + '.tmp', 'w', encoding='utf-8') as handle:
            handle.write(GET_PIP_SHIM)
        os.replace(path + '.tmp', path)
    return path


def controller_pythons(venv: str) -> tuple[str, ...]:
    """CONTROLLER_PYTHON_VERSIONS of the ansible-test installed in venv (read from its source, no import)."""
    code = ('import pathlib, re, ansible_test\n'
            'src = (pathlib.Path(ansible_test.__file__).parent / "_util" / "target" / "common" / "constants.py").read_text()\n'
            'block = re.search(r"CONTROLLER_PYTHON_VERSIONS = \\((.*?)\\)", src, re.S).group(1)\n'
            'print(" ".join(re.findall(r"[0-9]+\\.[0-9]+", block)))\n')
    out = subprocess.run([os.path.join(venv, 'bin', 'python'), '-c', code], capture_output=True, text=True,
                         check=True).stdout
    return tuple(out.split())


def source_files() -> list[str]:
    """Files of the working tree that ansible-test should see: tracked + untracked non-ignored."""
    try:
        listed = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                                cwd=ROOT, capture_output=True, check=True).stdout.decode().split('\0')
        deleted = set(subprocess.run(['git', 'ls-files', '-z', '--deleted'], cwd=ROOT, capture_output=True,
                                     check=True).stdout.decode().split('\0'))
        paths = [p for p in listed if p and p not in deleted]
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for dirpath, dirnames, filenames in os.walk(ROOT):
            rel = os.path.relpath(dirpath, ROOT)
            dirnames[:] = [d for d in dirnames if d not in COPY_EXCLUDE_ANY
                           and not (rel == '.' and d in COPY_EXCLUDE_TOP)
                           and not (rel == 'tests' and d == 'output')]
            paths.extend(os.path.normpath(os.path.join(rel, f)) for f in filenames if not f.endswith('.pyc'))
    result = []
    for path in paths:
        parts = path.split('/')
        if parts[0] in COPY_EXCLUDE_TOP or COPY_EXCLUDE_ANY.intersection(parts) or path.startswith('tests/output/'):
            continue
        if os.path.lexists(os.path.join(ROOT, path)):
            result.append(path)
    return sorted(result)


def sync_tree(dest: str) -> None:
    """Make dest an exact copy of the collection's files, keeping dest's tests/output (ansible-test caches)."""
    os.makedirs(dest, exist_ok=True)
    for entry in os.listdir(dest):
        path = os.path.join(dest, entry)
        if entry == 'tests':
            for sub in os.listdir(path):
                if sub != 'output':
                    subpath = os.path.join(path, sub)
                    if os.path.isdir(subpath) and not os.path.islink(subpath):
                        shutil.rmtree(subpath)
                    else:
                        os.unlink(subpath)
        elif os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    for rel in source_files():
        src = os.path.join(ROOT, rel)
        dst = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    # its own (empty) repository: ansible-test then lists the untracked, non-ignored files of the copy
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM='1')
    run(['git', 'init', '-q', dest], env=env, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('commands', nargs='+', choices=COMMANDS)
    parser.add_argument('--matrix', default=os.environ.get('MATRIX') or DEFAULT_MATRIX,
                        help='space separated CORE:PYTHON entries (default: %(default)s)')
    parser.add_argument('--work', default=os.path.join(ROOT, '.venvs'), help='venvs and trees (default: .venvs)')
    parser.add_argument('--timeout', type=int, default=1800, help='seconds per ansible-test command')
    parser.add_argument('--ansible-test-args', default='', help='extra arguments for every ansible-test call')
    args = parser.parse_args()

    namespace, name = galaxy_name()
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    entries = [e for e in args.matrix.replace(',', ' ').split() if e]
    failures, skips, passes = [], [], []

    # one ansible-test run at a time per checkout: trees and caches are shared
    with open(os.path.join(work, '.ansible-test.lock'), 'w', encoding='utf-8') as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say('another ansible-test run holds %s; waiting' % lock.name)
            fcntl.flock(lock, fcntl.LOCK_EX)

        pybin = os.path.join(work, 'pybin')
        pythons = make_pybin(pybin)
        test_home = os.path.join(work, 'ansible-test-home')
        make_test_home(test_home)
        for entry in entries:
            if ':' not in entry:
                print('ERROR: matrix entry %r is not CORE:PYTHON' % entry, file=sys.stderr)
                return 2
            core, py = entry.split(':', 1)
            if py not in pythons:
                others = [v for v in versions.CONTROLLER_PYTHONS.get(core, ()) if v in pythons]
                if others:
                    message = 'FALLBACK: ansible-core %s on python %s: python%s not found' % (core, others[0], py)
                    print(message, flush=True)
                    skips.append(message)
                    py = others[0]
                else:
                    message = 'SKIP: ansible-core %s on python %s: python%s not found (nor another controller Python of it)' % (
                        core, py, py)
                    print(message, flush=True)
                    if os.environ.get('CI', '').lower() in ('1', 'true', 'yes'):
                        failures.append(message[len('SKIP: '):] + ' - under CI, every claimed ansible-core must be tested')
                    else:
                        skips.append(message)
                    continue
            venv = os.path.join(work, 'core-' + core)
            try:
                ensure_core_venv(venv, core, pythons[py])
            except subprocess.CalledProcessError as exc:
                failures.append('ansible-core %s on python %s: venv setup failed (%s)' % (core, py, exc))
                print('FAILED: ' + failures[-1], flush=True)
                continue
            version_file = os.path.join(venv, 'version.txt')
            with open(version_file, 'w', encoding='utf-8') as handle:
                subprocess.run([os.path.join(venv, 'bin', 'ansible-test'), '--version'], stdout=handle,
                               stderr=subprocess.STDOUT, check=False)
            with open(version_file, encoding='utf-8') as handle:
                test_version = handle.read().strip()
            supported = controller_pythons(venv)
            say('ansible-core %s: controller Pythons %s' % (core, ' '.join(supported)))
            if py not in supported:
                failures.append('ansible-core %s on python %s: not a controller Python of this ansible-test (%s)' % (
                    core, py, ' '.join(supported)))
                print('FAILED: ' + failures[-1], flush=True)
                continue
            if tuple(versions.CONTROLLER_PYTHONS.get(core, ())) != supported:
                failures.append('ansible-core %s: .ci/versions.py CONTROLLER_PYTHONS says %s, ansible-test says %s' % (
                    core, ' '.join(versions.CONTROLLER_PYTHONS.get(core, ())) or 'nothing', ' '.join(supported)))
                print('FAILED: ' + failures[-1], flush=True)
            write_get_pip_shim(venv, test_home)
            tree = os.path.join(work, 'ansible-test', 'core-' + core)
            dest = os.path.join(tree, 'ansible_collections', namespace, name)
            sync_tree(dest)
            env = dict(os.environ)
            env['PATH'] = os.pathsep.join([os.path.join(venv, 'bin'), pybin, env.get('PATH', '')])
            env['HOME'] = test_home
            env.pop('ANSIBLE_COLLECTIONS_PATH', None)
            env.pop('VIRTUAL_ENV', None)
            for command in args.commands:
                label = '%s: ansible-core %s on python %s (%s)' % (command, core, py, test_version)
                say(label)
                cmd = ['ansible-test', command, '--venv', '--python', py, '--color', 'no']
                cmd += args.ansible_test_args.split()
                started = time.monotonic()
                try:
                    rc = subprocess.run(cmd, cwd=dest, env=env, stdin=subprocess.DEVNULL, timeout=args.timeout,
                                        check=False).returncode
                except subprocess.TimeoutExpired:
                    rc = 'timeout after %d s' % args.timeout
                took = '%.0f s' % (time.monotonic() - started)
                if rc == 0:
                    passes.append('%s: %s' % (label, took))
                else:
                    failures.append('%s: rc=%s, %s (tree: %s)' % (label, rc, took, dest))
                    print('FAILED: ' + failures[-1], flush=True)

    say('ansible-test %s summary' % ' '.join(args.commands))
    for line in passes:
        print('  PASS: ' + line)
    for line in skips:
        print('  ' + line)
    for line in failures:
        print('  FAILED: ' + line)
    if not passes and not failures:
        print('  WARNING: no matrix entry ran (every python was missing)')
    sys.stdout.flush()
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
