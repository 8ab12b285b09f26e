# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability and security suite: fixtures, the size knob and the results table.

Reuses the functional harness (tests/functional/conftest.py: ``collections_path``, ``cache_path``,
``run_playbook``), loaded from its file under a name of its own so that it never competes with the
other ``conftest`` modules. Adds:

``simulator``
    A :class:`reliability_lib.ReliabilitySimulator` (the strict simulator; its ``trigger()`` hook runs
    an action, such as ``expire()``, right before the n-th request to an endpoint). The seeded
    Supervisor and Viewer passwords are replaced (the simulator's ``passwords`` argument) by
    distinctive ones (``reliability_lib.ADMIN_PASSWORD``) so that the secrets scan can tell them
    from the user names.

``rel``
    A :class:`reliability_lib.Reliability` bound to the test: runs ``ansible-playbook`` at -vvv with a
    log file, scans every output for secrets, checks convergence and records table rows.

Size: ``CREATIO_RELIABILITY_SIZE=small`` (default; what ``make test`` runs) or ``full`` (``make
reliability``). The table is printed at the end of the run and written to
``tests/output/reliability/table.md`` and ``table.json``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import reliability_lib as lib  # noqa: E402  pylint: disable=wrong-import-position,import-error


def _load_harness():
    name = 'creatio_functional_harness'
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(lib.ROOT, 'tests', 'functional', 'conftest.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_HARNESS = _load_harness()

# The harness fixtures, registered for this directory.
collections_path = _HARNESS.collections_path
cache_path = _HARNESS.cache_path
run_playbook = _HARNESS.run_playbook

# Plain names of the harness, re-exported: pytest keeps only the last imported ``conftest`` in
# sys.modules, and tests/functional imports these from "conftest".
parse_recap = _HARNESS.parse_recap
simulator_available = _HARNESS.simulator_available
PlaybookResult = _HARNESS.PlaybookResult


def _spawn_settings(collections_path, tmp_path, cache_path):
    """The environment the harness gives ansible-playbook, for processes started without it
    (killed runs, concurrent runs): same collections tree, callback recorder and cache."""
    home = tmp_path / 'spawn-home'
    (home / '.ansible' / 'tmp').mkdir(parents=True, exist_ok=True)
    config = tmp_path / 'spawn-ansible.cfg'
    config.write_text(u'[defaults]\n')
    env = _HARNESS.ansible_env(home, config, collections_path, cache_path)
    return {'env': env, 'ansible_playbook': os.path.join(_HARNESS.BIN_DIR, 'ansible-playbook'),
            'results_env': _HARNESS.RESULTS_ENV, 'result_class': _HARNESS.PlaybookResult}


@pytest.fixture
def make_simulator():
    """``make_simulator(**kwargs)``: a started ReliabilitySimulator (127.0.0.1, free port; kwargs as
    Simulator's, e.g. tls_cert/tls_key) with the distinctive passwords, stopped after the test."""
    started = []
    passwords = {lib.ADMIN_USER: lib.ADMIN_PASSWORD, lib.VIEWER_USER: lib.VIEWER_PASSWORD}

    def _make(**kwargs):
        kwargs.setdefault('passwords', passwords)
        sim = lib.ReliabilitySimulator(host='127.0.0.1', port=0, **kwargs)
        sim.start()
        started.append(sim)
        return sim

    try:
        yield _make
    finally:
        for sim in started:
            sim.stop()


@pytest.fixture
def simulator(make_simulator):
    """A started ReliabilitySimulator with the distinctive passwords, stopped after the test."""
    return make_simulator()


@pytest.fixture
def rel(request, simulator, run_playbook, cache_path, collections_path, tmp_path):
    """The reliability helper for one test (see reliability_lib.Reliability)."""
    helper = lib.Reliability(request.node.nodeid, simulator, run_playbook, cache_path, tmp_path,
                             spawn=_spawn_settings(collections_path, tmp_path, cache_path))
    yield helper
    helper.close()


# ---------------------------------------------------------------- size knob and table

def pytest_report_header(config):
    return 'creatio reliability size: %s (CREATIO_RELIABILITY_SIZE)' % lib.SIZE


def pytest_configure(config):
    if not hasattr(config, 'workerinput'):  # the controller (or a run without xdist), before workers start
        lib.start_session()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    del exitstatus
    if hasattr(config, 'workerinput'):
        return
    rows = lib.read_rows()
    if not rows:
        return
    text = lib.write_table(rows)
    terminalreporter.write_sep('=', 'creatio.oauth reliability table (%s size, %d rows)' % (lib.SIZE, len(rows)))
    for line in text.splitlines():
        terminalreporter.write_line(line)
    terminalreporter.write_line('written to %s' % os.path.relpath(lib.TABLE_MD, os.getcwd()))
