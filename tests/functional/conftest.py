# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Harness for end-to-end tests that run the real ``ansible-playbook`` against the simulator.

Fixtures:

``simulator``
    A fresh ``creatio_simulator.Simulator`` on 127.0.0.1 and a free port, started for the test and
    stopped after it (function scope). API: ``url``, ``identity_url``, ``state()``, ``log()``,
    ``configure(**kw)``, ``reset()``, ``expire(...)``, ``rotate_csrf()``.

``run_playbook``
    ``run_playbook(playbook, extra_vars=None, check=False, diff=False, verbosity=0, env=None,
    timeout=300, inventory=None, extra_args=(), cwd=None)`` runs ``ansible-playbook`` from this Python's venv
    on localhost (``extra_args`` before the playbook, such as ``['-e', '@file.yml']``; ``cwd``: where it starts).
    ``playbook`` is a path or YAML text. The environment points the collection's connection
    variables at the simulator (when the test uses the ``simulator`` fixture) and the module cache
    at a per-test ``cache_path``; ``env`` entries override them, and a ``None`` value removes a
    variable. Returns a :class:`PlaybookResult` (``rc``, ``stdout``, ``stderr``, ``recap``,
    ``results``, ``task(name)``, ...).

``cache_path``
    The per-test facts cache file exported as ``CREATIO_CACHE_PATH`` (not created in advance).

The collection is made visible to ``ansible-playbook`` through a temporary
``ansible_collections/creatio/oauth`` symlink to the checkout (ANSIBLE_COLLECTIONS_PATH).
All fixtures are per test (temp dirs, port 0), so the suite is safe under ``pytest -n``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.realpath(os.path.join(HERE, '..', '..'))
SIMULATOR_DIR = os.path.join(ROOT, 'tests', 'simulator')
SIMULATOR_FILE = os.path.join(SIMULATOR_DIR, 'creatio_simulator.py')
CALLBACK_DIR = os.path.join(HERE, 'callback_plugins')
if os.path.join(ROOT, 'tools') not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
import testbed  # noqa: E402  pylint: disable=import-error,wrong-import-position
CALLBACK_NAME = 'creatio_test_recorder'
RESULTS_ENV = 'CREATIO_TEST_RESULTS_FILE'
BIN_DIR = os.path.dirname(os.path.abspath(sys.executable))


@pytest.fixture(scope='session')
def collections_path(tmp_path_factory):
    """``<tmp>/ansible_collections/<ns>/<name> -> checkout``; returns ``<tmp>`` (ANSIBLE_COLLECTIONS_PATH)."""
    return testbed.linked_collection(str(tmp_path_factory.mktemp('collections')))


def _import_simulator():
    if SIMULATOR_DIR not in sys.path:
        sys.path.insert(0, SIMULATOR_DIR)
    import creatio_simulator  # pylint: disable=import-error
    return creatio_simulator


# The simulator's seeded administrator, from its data module (not helpers.py: tests/reliability loads
# this file by its path, where ``helpers`` is not importable).
def _seeded_admin():
    module = _import_simulator()
    return next((user['name'], user['password']) for user in module.USERS if user['id'] == module.SUPERVISOR_ID)


ADMIN_USER, ADMIN_PASSWORD = _seeded_admin()


@pytest.fixture
def simulator():
    """A started simulator (127.0.0.1, free port), stopped after the test."""
    module = _import_simulator()
    sim = module.Simulator(host='127.0.0.1', port=0)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def cache_path(tmp_path):
    """Per-test facts cache file (exported as CREATIO_CACHE_PATH)."""
    return str(tmp_path / 'cache' / 'facts.json')


class PlaybookResult(object):
    """What one ``ansible-playbook`` run produced."""

    def __init__(self, rc, stdout, stderr, results, args, playbook_path, home):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.results = results
        self.args = args
        self.playbook_path = playbook_path
        self.home = home
        self.recap = parse_recap(stdout)

    @property
    def output(self):
        return self.stdout + self.stderr

    def task(self, name, host=None):
        """The recorded results (list of dicts) of every task whose name is ``name``."""
        return [r for r in self.results if r['task'] == name and (host is None or r['host'] == host)]

    def task_result(self, name, host=None):
        """The ``result`` dict of the one task named ``name`` (fails if there are 0 or several)."""
        found = self.task(name, host)
        assert len(found) == 1, 'expected exactly one result for task %r, got %d\n%s' % (name, len(found), self)
        return found[0]['result']

    def statuses(self):
        return [(r['task'], r['status']) for r in self.results]

    def changed_tasks(self):
        return [r['task'] for r in self.results if r['status'] == 'changed']

    def failed_tasks(self):
        return [r['task'] for r in self.results if r['status'] == 'failed' and not r.get('ignore_errors')]

    def __str__(self):
        return 'ansible-playbook rc=%s\n--- command: %s\n--- stdout:\n%s\n--- stderr:\n%s' % (
            self.rc, ' '.join(self.args), self.stdout, self.stderr)

    __repr__ = __str__


parse_recap = testbed.parse_recap


def _read_results(path):
    results = []
    if os.path.exists(path):
        with open(path) as handle:
            for line in handle:
                if line.strip():
                    results.append(json.loads(line))
    return results


def ansible_env(home, config, collections_path, cache_path):
    """The environment every test ansible-playbook gets: none of the caller's ANSIBLE_*/CREATIO_*
    variables, a private HOME and config, this collection's tree, the result recorder, the cache."""
    env = dict((k, v) for k, v in os.environ.items() if not (k.startswith('ANSIBLE_') or k.startswith('CREATIO_')))
    env.update({
        'PATH': BIN_DIR + os.pathsep + os.environ.get('PATH', ''),
        'HOME': str(home),
        'ANSIBLE_HOME': str(home / '.ansible'),
        'ANSIBLE_LOCAL_TEMP': str(home / '.ansible' / 'tmp'),
        'ANSIBLE_REMOTE_TEMP': str(home / '.ansible' / 'tmp'),
        'ANSIBLE_CONFIG': str(config),
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_HOST_KEY_CHECKING': '0',
        'ANSIBLE_STDOUT_CALLBACK': 'default',
        'ANSIBLE_CALLBACK_PLUGINS': CALLBACK_DIR,
        'ANSIBLE_CALLBACKS_ENABLED': CALLBACK_NAME,
        'CREATIO_CACHE_PATH': cache_path,
        'PYTHONDONTWRITEBYTECODE': '1',
    })
    return env


@pytest.fixture
def run_playbook(request, tmp_path, collections_path, cache_path):
    """Callable that runs ansible-playbook; see the module docstring."""
    work = tmp_path / 'run'
    work.mkdir()
    home = work / 'home'
    (home / '.ansible' / 'tmp').mkdir(parents=True)
    # an empty config: no ansible.cfg from the cwd, HOME or /etc can leak in
    config = work / 'ansible.cfg'
    config.write_text(u'[defaults]\n')
    counter = [0]
    # the simulator is used only when the test asked for it (never started implicitly)
    sim = request.getfixturevalue('simulator') if 'simulator' in request.fixturenames else None

    def _run(playbook, extra_vars=None, check=False, diff=False, verbosity=0, env=None, timeout=300,
             inventory=None, extra_args=(), cwd=None):
        counter[0] += 1
        run_dir = work / ('%02d' % counter[0])
        run_dir.mkdir()
        if '\n' not in playbook and os.path.isfile(str(playbook)):
            playbook_path = os.path.abspath(str(playbook))
        elif str(playbook).startswith('creatio.oauth.') and '\n' not in playbook:
            playbook_path = str(playbook)  # a playbook of the collection, by its name (as users run them)
        else:
            playbook_path = str(run_dir / 'playbook.yml')
            with open(playbook_path, 'w') as handle:
                handle.write(playbook)
        if inventory is None:
            inventory_path = str(run_dir / 'inventory.ini')
            with open(inventory_path, 'w') as handle:
                handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
        elif '\n' not in inventory and os.path.exists(str(inventory)):
            inventory_path = os.path.abspath(str(inventory))
        else:
            inventory_path = str(run_dir / 'inventory')
            with open(inventory_path, 'w') as handle:
                handle.write(inventory)
        results_path = str(run_dir / 'results.jsonl')

        args = [os.path.join(BIN_DIR, 'ansible-playbook'), '-i', inventory_path]
        if extra_vars:
            vars_path = str(run_dir / 'extra_vars.json')
            with open(vars_path, 'w') as handle:
                json.dump(extra_vars, handle)
            args += ['-e', '@' + vars_path]
        if check:
            args.append('--check')
        if diff:
            args.append('--diff')
        if verbosity:
            args.append('-' + 'v' * verbosity)
        args.extend(extra_args)
        args.append(playbook_path)

        run_env = ansible_env(home, config, collections_path, cache_path)
        run_env[RESULTS_ENV] = results_path
        if sim is not None:
            run_env.update({
                'CREATIO_URL': sim.url,
                'CREATIO_USERNAME': ADMIN_USER,
                'CREATIO_PASSWORD': ADMIN_PASSWORD,
            })
        for key, value in (env or {}).items():
            if value is None:
                run_env.pop(key, None)
            else:
                run_env[key] = str(value)

        try:
            proc = subprocess.run(args, cwd=str(cwd or run_dir), env=run_env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                                  universal_newlines=True, check=False)
        except subprocess.TimeoutExpired as exc:
            pytest.fail('ansible-playbook timed out after %s s: %s\n--- stdout:\n%s\n--- stderr:\n%s' % (
                timeout, ' '.join(args), exc.stdout or '', exc.stderr or ''))
        return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, _read_results(results_path), args,
                              playbook_path, str(home))

    return _run


def simulator_available():
    """True once tests/simulator/creatio_simulator.py exists."""
    return os.path.exists(SIMULATOR_FILE)
