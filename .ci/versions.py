"""The ansible-core versions the collection claims, tests and ships, kept in step from one place.

The one place: the ``MATRIX`` of the Makefile (``CORE:PYTHON`` entries), whose lowest core must be
the ``requires_ansible`` floor of meta/runtime.yml. Everything else is checked against it, or
written from it:

* the matrix holds every ansible-core minor from the ``requires_ansible`` floor up to its newest
  entry (no claimed core goes untested), each on a controller Python of that core (the table
  below; .ci/ansible_test_matrix.py compares it with ansible-test's own list on every run);
* extensions/ee/execution-environment.yml installs ``ansible-core>=FLOOR,<NEXT`` where NEXT is the
  minor after the newest tested one, on a Python that is a controller Python of every tested core,
  and names the collection tarball of galaxy.yml's version.

    python3 .ci/versions.py            # print the ranges
    python3 .ci/versions.py --check    # exit 1 on any mismatch (make lint runs this; so does a test)
    python3 .ci/versions.py --write    # rewrite the EE file's ansible-core pin, Python and tarball name

Standard library only (ansible_test_matrix.py imports it).
"""

from __future__ import annotations

import argparse
import os
import re
import sys

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
MAKEFILE = os.path.join(ROOT, 'Makefile')
RUNTIME = os.path.join(ROOT, 'meta', 'runtime.yml')
GALAXY = os.path.join(ROOT, 'galaxy.yml')
EE_FILE = os.path.join(ROOT, 'extensions', 'ee', 'execution-environment.yml')

# Controller Pythons of ansible-test, per ansible-core minor
# (ansible_test/_util/target/common/constants.py: CONTROLLER_PYTHON_VERSIONS).
CONTROLLER_PYTHONS = {
    '2.16': ('3.10', '3.11', '3.12'),
    '2.17': ('3.10', '3.11', '3.12'),
    '2.18': ('3.11', '3.12', '3.13'),
    '2.19': ('3.11', '3.12', '3.13'),
    '2.20': ('3.12', '3.13', '3.14'),
    '2.21': ('3.12', '3.13', '3.14'),
    '2.22': ('3.13', '3.14', '3.15'),
}


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split('.'))


def _read(path: str) -> str:
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def makefile_matrix(makefile: str = MAKEFILE) -> list[tuple[str, str]]:
    """The Makefile's default MATRIX as [(core, python), ...]."""
    match = re.search(r'^MATRIX\s*\?=\s*(.+)$', _read(makefile), re.M)
    if not match:
        raise ValueError('%s has no "MATRIX ?= ..." line' % makefile)
    entries = []
    for entry in match.group(1).split():
        core, _sep, python = entry.partition(':')
        if not re.match(r'^\d+\.\d+$', core) or not re.match(r'^\d+\.\d+$', python):
            raise ValueError('%s: MATRIX entry %r is not CORE:PYTHON' % (makefile, entry))
        entries.append((core, python))
    return entries


def requires_ansible_floor(runtime: str = RUNTIME) -> str:
    """'2.16' from requires_ansible: ">=2.16.0" (a floor only; an upper bound is refused)."""
    match = re.search(r'^requires_ansible:\s*["\']?([^"\'\n]+)', _read(runtime), re.M)
    if not match:
        raise ValueError('%s has no requires_ansible' % runtime)
    spec = match.group(1).strip()
    floor = re.match(r'^>=\s*(\d+)\.(\d+)(?:\.\d+)?$', spec)
    if not floor:
        raise ValueError('%s: requires_ansible %r is not a plain ">=X.Y.Z" floor' % (runtime, spec))
    return '%s.%s' % floor.groups()


def galaxy_version(galaxy: str = GALAXY) -> str:
    match = re.search(r'^version:\s*["\']?([0-9][^"\'\s]*)', _read(galaxy), re.M)
    if not match:
        raise ValueError('%s has no version' % galaxy)
    return match.group(1)


def next_minor(core: str) -> str:
    major, minor = _key(core)
    return '%d.%d' % (major, minor + 1)


def tested_cores(matrix: list[tuple[str, str]]) -> list[str]:
    return sorted(set(core for core, _python in matrix), key=_key)


def core_pin(matrix: list[tuple[str, str]]) -> str:
    cores = tested_cores(matrix)
    return 'ansible-core>=%s,<%s' % (cores[0], next_minor(cores[-1]))


def ee_python(matrix: list[tuple[str, str]]) -> str:
    """The newest Python that every tested core supports as a controller."""
    common = None
    for core in tested_cores(matrix):
        supported = set(CONTROLLER_PYTHONS.get(core, ()))
        common = supported if common is None else common & supported
    if not common:
        raise ValueError('no Python is a controller Python of every tested core %s' % tested_cores(matrix))
    return max(common, key=_key)


def expected_ee_values(matrix: list[tuple[str, str]], version: str) -> dict[str, str]:
    python = ee_python(matrix)
    return {
        'package_pip': core_pin(matrix),
        'package_system': 'python' + python,
        'python_path': '/usr/bin/python' + python,
        'tarball': '/build/collections/creatio-oauth-%s.tar.gz' % version,
    }


# the lines of the EE file these values live in (one each)
EE_PATTERNS = {
    'package_pip': r'^(\s+package_pip:\s*)(ansible-core\S*)\s*$',
    'package_system': r'^(\s+package_system:\s*)(python3\S*)\s*$',
    'python_path': r'^(\s+python_path:\s*)(\S+)\s*$',
    'tarball': r'^(\s+- name:\s*)(/build/collections/\S+\.tar\.gz)\s*$',
}


def ee_values(text: str) -> dict[str, list[str]]:
    return dict((name, re.findall(pattern, text, re.M)) for name, pattern in EE_PATTERNS.items())


def problems(matrix=None, floor=None, version=None, ee_text=None) -> list[str]:
    """Everything that is out of step; [] when all agree."""
    matrix = makefile_matrix() if matrix is None else matrix
    floor = requires_ansible_floor() if floor is None else floor
    version = galaxy_version() if version is None else version
    ee_text = _read(EE_FILE) if ee_text is None else ee_text
    found = []
    cores = tested_cores(matrix)
    if not cores:
        return ['the MATRIX is empty']
    if cores[0] != floor:
        found.append('the oldest tested ansible-core is %s but meta/runtime.yml claims >=%s' % (cores[0], floor))
    major, low = _key(floor)
    _major, high = _key(cores[-1])
    missing = ['%d.%d' % (major, minor) for minor in range(low, high + 1) if '%d.%d' % (major, minor) not in cores]
    if missing:
        found.append('claimed but not tested: ansible-core %s (MATRIX: %s)' % (', '.join(missing), ' '.join(cores)))
    for core, python in matrix:
        if core not in CONTROLLER_PYTHONS:
            found.append('ansible-core %s is not in the CONTROLLER_PYTHONS table of .ci/versions.py' % core)
        elif python not in CONTROLLER_PYTHONS[core]:
            found.append('python %s is not a controller Python of ansible-core %s (%s)' % (
                python, core, ', '.join(CONTROLLER_PYTHONS[core])))
    try:
        wanted = expected_ee_values(matrix, version)
    except ValueError as exc:
        return found + [str(exc)]
    have = ee_values(ee_text)
    for name, value in wanted.items():
        values = [v[1] for v in have[name]]
        if values != [value]:
            found.append('%s: %s is %s, expected %r' % (
                os.path.relpath(EE_FILE, ROOT), name, values[0] if len(values) == 1 else values or 'missing', value))
    return found


def write_ee(matrix=None, version=None) -> bool:
    matrix = makefile_matrix() if matrix is None else matrix
    version = galaxy_version() if version is None else version
    text = _read(EE_FILE)
    new = text
    for name, value in expected_ee_values(matrix, version).items():
        new, count = re.subn(EE_PATTERNS[name], lambda m, v=value: m.group(1) + v, new, flags=re.M)
        if count != 1:
            raise ValueError('%s: %d lines match %s' % (EE_FILE, count, name))
    if new != text:
        with open(EE_FILE + '.tmp', 'w', encoding='utf-8') as handle:
            handle.write(new)
        os.replace(EE_FILE + '.tmp', EE_FILE)
        return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--check', action='store_true')
    group.add_argument('--write', action='store_true')
    args = parser.parse_args()
    if args.write:
        print('rewrote %s' % EE_FILE if write_ee() else '%s was up to date' % EE_FILE)
    matrix = makefile_matrix()
    print('requires_ansible floor: %s' % requires_ansible_floor())
    print('tested (MATRIX):        %s' % ' '.join('%s:%s' % entry for entry in matrix))
    print('EE:                     %s on python%s' % (core_pin(matrix), ee_python(matrix)))
    found = problems()
    for problem in found:
        print('ERROR: %s' % problem, file=sys.stderr)
    if args.check or args.write:
        return 1 if found else 0
    return 0


if __name__ == '__main__':
    sys.exit(main())
