#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: what a bootstrap of N integrations costs, against the local simulator.

For each N (default 1, 10, 50) and each repetition (default 3; the median is reported), it runs the
real ``ansible-playbook`` of the tools venv on localhost:

* this collection, through the ``creatio.oauth.integrations`` role, which applies all integrations
  with one ``creatio_oauth_clients`` task (or, with ``--via loop``, one ``creatio_oauth_client``
  task looping over the integrations: one module process per integration, for comparison):
  ``first`` (fresh site, empty cache), ``rerun`` (nothing to do), ``check`` (``--check`` of that
  converged site), ``rerun-noverify`` (the modules' ``verify: false``: the cache is trusted) and
  ``check-new`` (``--check`` against a fresh site: the preview of a first run);
* ``baseline``: what users write today with ``ansible.builtin.uri``: one login task, one task that
  builds the Cookie and BPMCSRF headers, then one AddClient task per integration (N tasks, no loop);
* ``floor``: N tasks of ``ansible.builtin.ping`` (Ansible's own per-task cost).

The simulator's request log is counted per run (logins, tokens, reads, writes, per endpoint) and
checked: a run that fails, or sends what it should not, makes the bench exit 1 after the report.
Then a micro benchmark of the facts cache (parse, lookup, update, file size at 10, 500, 5,000
clients) and of the module start-up (imports). The table goes to stdout, everything to
``build/bench/results.json``.

Timing targets (issue 8) are reported as PASS/MISS; they do not change the exit status unless
``--strict`` is given (wall times on a shared machine are noisy).
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import datetime
import importlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import yaml

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import testbed  # noqa: E402  pylint: disable=wrong-import-position
SIMULATOR_DIR = os.path.join(ROOT, 'tests', 'simulator')
BIN_DIR = os.path.dirname(os.path.abspath(sys.executable))
ROLE_TASKS = os.path.join(ROOT, 'roles', 'integrations', 'tasks', 'main.yml')
DEFAULT_OUTPUT = os.path.join(ROOT, 'build', 'bench', 'results.json')

ADMIN_USER = 'Supervisor'
ADMIN_PASSWORD = 'Supervisor'
POWERBI_USER_ID = '6f1c0b1e-7a5d-4a43-9d0b-2c1e0a9b8f01'
WEBHOOK_USER_ID = '0d5a3e22-4c1b-4f7e-8a66-3b9f2d7c5e02'

COLLECTION_SCENARIOS = ('first', 'rerun', 'check', 'rerun-noverify', 'check-new', 'rerun-nosession')
ALL_SCENARIOS = COLLECTION_SCENARIOS + ('baseline', 'floor')
OPT_IN_SCENARIOS = ('check-new', 'rerun-nosession')
DEFAULT_SCENARIOS = tuple(s for s in ALL_SCENARIOS if s not in OPT_IN_SCENARIOS)
SCENARIO_HELP = {
    'first': 'collection, first run (fresh site, empty cache)',
    'rerun': 'collection, re-run with nothing to do',
    'check': 'collection, --check of the converged site',
    'rerun-noverify': 'collection, re-run with verify: false (cache trusted)',
    'check-new': 'collection, --check against a fresh site',
    'rerun-nosession': 'collection, re-run with reuse_session: false (a login per task: one through the role)',
    'baseline': 'ansible.builtin.uri: login + 1 AddClient task per integration',
    'floor': 'ansible.builtin.ping: N tasks',
}
# "well under the cost of one task": a cache update at 5,000 clients must stay below this share of it
CACHE_SHARE_OF_TASK = 0.25
RERUN_FLOOR_FACTOR = 1.2


# ---------------------------------------------------------------- the declared integrations

def integrations(count):
    """A deterministic mix of the role's presets. Every 5th (outlook_addin) has two redirect URIs,
    so its first run needs AddClient + AddRedirectUrls."""
    items = []
    for index in range(count):
        name = 'bench-%03d' % index
        kind = index % 5
        if kind == 0:
            items.append({'name': name, 'preset': 'powerbi', 'system_user_id': POWERBI_USER_ID})
        elif kind == 1:
            items.append({'name': name, 'preset': 'webhooks', 'application_url': 'https://hooks%d.example.com' % index,
                          'system_user_id': WEBHOOK_USER_ID})
        elif kind == 2:
            items.append({'name': name, 'preset': 'clio', 'system_user_id': WEBHOOK_USER_ID})
        elif kind == 3:
            items.append({'name': name, 'preset': 'outlook_addin',
                          'redirect_urls': ['https://addin%d.example.com/callback' % index,
                                            'https://addin%d.example.com/silent-callback' % index]})
        else:
            items.append({'name': name, 'preset': 'custom', 'grant_type': 'authorization_code',
                          'application_url': 'https://app%d.example.com' % index,
                          'redirect_urls': ['https://app%d.example.com/oauth/callback' % index]})
    return items


def collection_module(name):
    """A module_utils module of the collection in this checkout (imported through a linked tree)."""
    collections = testbed.linked_collection(os.path.join(tempfile.gettempdir(), 'creatio-bench-collections-%d' % os.getuid()))
    if collections not in sys.path:
        sys.path.insert(0, collections)
    return importlib.import_module('ansible_collections.creatio.oauth.plugins.module_utils.' + name)


def effective(item):
    """The module arguments an item stands for: the collection's own presets decide."""
    expanded, problems = collection_module('_rules').expand_preset(dict(item, state='present'), item['name'])
    assert not problems, problems
    settings = {'name': item['name'], 'grant_type': expanded['grant_type'], 'application_url': expanded['application_url']}
    for key in ('system_user_id', 'redirect_urls'):
        if key in item:
            settings[key] = item[key]
    return settings


def redirect_calls(items):
    """AddRedirectUrls calls of a first run: (what the collection sends, the issue's minimum).

    The collection sends one per authorization_code integration, even with a single URI: AddClient's
    own redirectUrl would create the URI without telling its id, and the id is what later updates and
    removals need (planner._plan_create). The issue's minimum counts only clients with more than one URI.
    """
    urls = [len(effective(item).get('redirect_urls') or []) for item in items]
    return sum(1 for n in urls if n >= 1), sum(1 for n in urls if n > 1)


def odata_requests(collections_path, names, with_client_ids):
    """How many OData requests one lookup of ``names`` takes (the collection's own split)."""
    if collections_path not in sys.path:
        sys.path.insert(0, collections_path)
    from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api_assumptions  # pylint: disable=import-outside-toplevel
    from ansible_collections.creatio.oauth.plugins.module_utils._odata import filter_chunks  # pylint: disable=import-outside-toplevel
    clauses = ["Name eq '%s'" % name for name in names]
    if with_client_ids:
        clauses += ["ClientId eq '%s'" % ('0' * 32) for _name in names]  # client ids: 32 hex digits
    return len(filter_chunks(clauses, api_assumptions.ODATA_MAX_FILTER_LENGTH))


# ---------------------------------------------------------------- playbooks

def _dump(document):
    return '---\n' + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=200)


def role_playbook(noverify=False):
    play = {'name': 'Bootstrap the integrations (bench, through the role)', 'hosts': 'localhost', 'connection': 'local',
            'gather_facts': False}
    if noverify:
        # The role has no variable for the modules' verify option: a play-level group default reaches
        # its module tasks (its own module_defaults are keyed by module and do not set verify).
        play['module_defaults'] = {'group/creatio.oauth.creatio': {'verify': False}}
    play['roles'] = [{'role': 'creatio.oauth.integrations'}]
    return _dump([play])


def loop_playbook(noverify=False):
    task = {
        'name': 'Apply the integrations',
        'creatio.oauth.creatio_oauth_client': {
            'name': '{{ item.name }}',
            'grant_type': '{{ item.grant_type }}',
            'application_url': '{{ item.application_url }}',
            'system_user_id': '{{ item.system_user_id | default(omit) }}',
            'redirect_urls': '{{ item.redirect_urls | default(omit) }}',
            'verify': not noverify,
        },
        'loop': '{{ bench_integrations }}',
        'loop_control': {'label': '{{ item.name }}'},
        'no_log': True,
    }
    return _dump([{'name': 'Bootstrap the integrations (bench, one looping task)', 'hosts': 'localhost',
                   'gather_facts': False, 'tasks': [task]}])


def baseline_playbook(items):
    """What users write today: uri login, the headers by hand, then one AddClient task per integration."""
    tasks = [
        {'name': 'Log in to Creatio',
         'ansible.builtin.uri': {
             'url': '{{ creatio_site }}/ServiceModel/AuthService.svc/Login',
             'method': 'POST',
             'body_format': 'json',
             'headers': {'ForceUseSession': 'true'},
             'body': {'UserName': "{{ lookup('ansible.builtin.env', 'CREATIO_USERNAME') }}",
                      'UserPassword': "{{ lookup('ansible.builtin.env', 'CREATIO_PASSWORD') }}"},
             'return_content': True,
             'status_code': 200},
         'register': 'creatio_login',
         'no_log': True},
        {'name': 'Keep the session cookies and the CSRF token',
         'ansible.builtin.set_fact': {
             'creatio_cookie': "{{ creatio_login.cookies | dict2items | map(attribute='key') | zip(creatio_login.cookies "
                               "| dict2items | map(attribute='value')) | map('join', '=') | join('; ') }}",
             'creatio_csrf': '{{ creatio_login.cookies.BPMCSRF }}'},
         'no_log': True},
    ]
    for item in items:
        settings = effective(item)
        request = {'name': settings['name'], 'applicationUrl': settings['application_url'], 'grantType': settings['grant_type']}
        if settings.get('system_user_id'):
            request['systemUserId'] = settings['system_user_id']
        if settings.get('redirect_urls'):
            request['redirectUrl'] = settings['redirect_urls'][0]
        tasks.append({
            'name': 'Create the integration %s' % settings['name'],
            'ansible.builtin.uri': {
                'url': '{{ creatio_site }}/0/rest/OAuthConfigService/AddClient',
                'method': 'POST',
                'body_format': 'json',
                'headers': {'Cookie': '{{ creatio_cookie }}', 'BPMCSRF': '{{ creatio_csrf }}'},
                'body': {'addClientRequest': request},
                'status_code': 200},
            'no_log': True})
    return _dump([{'name': 'Bootstrap the integrations (bench baseline, ansible.builtin.uri)', 'hosts': 'localhost',
                   'gather_facts': False, 'tasks': tasks}])


def floor_playbook(count):
    tasks = [{'name': 'Ping %d' % index, 'ansible.builtin.ping': None} for index in range(count)]
    return _dump([{'name': 'Floor (ansible.builtin.ping)', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}])


# ---------------------------------------------------------------- running

class Bench(object):

    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.sim = None
        self.collections = os.path.join(work, 'collections')
        self.counter = 0
        self.checks = []
        self.runs = []

    # --- setup ----------------------------------------------------------------------------------
    def setup(self):
        self.collections = testbed.linked_collection(self.collections)
        if SIMULATOR_DIR not in sys.path:
            sys.path.insert(0, SIMULATOR_DIR)
        import creatio_simulator  # pylint: disable=import-error,import-outside-toplevel
        self.sim = creatio_simulator.Simulator(host='127.0.0.1', port=0)
        self.sim.start()
        home = os.path.join(self.work, 'home')
        os.makedirs(os.path.join(home, '.ansible', 'tmp'))
        config = os.path.join(self.work, 'ansible.cfg')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write('[defaults]\n')
        self.inventory = os.path.join(self.work, 'inventory.ini')
        with open(self.inventory, 'w', encoding='utf-8') as handle:
            handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
        env = dict((k, v) for k, v in os.environ.items() if not (k.startswith('ANSIBLE_') or k.startswith('CREATIO_')))
        env.update({
            'PATH': BIN_DIR + os.pathsep + os.environ.get('PATH', ''),
            'HOME': home,
            'ANSIBLE_HOME': os.path.join(home, '.ansible'),
            'ANSIBLE_LOCAL_TEMP': os.path.join(home, '.ansible', 'tmp'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(home, '.ansible', 'tmp'),
            'ANSIBLE_CONFIG': config,
            'ANSIBLE_COLLECTIONS_PATH': self.collections,
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_HOST_KEY_CHECKING': '0',
            'ANSIBLE_STDOUT_CALLBACK': 'default',
            'CREATIO_URL': self.sim.url,
            'CREATIO_USERNAME': ADMIN_USER,
            'CREATIO_PASSWORD': ADMIN_PASSWORD,
        })
        self.env = env

    def close(self):
        if self.sim is not None:
            self.sim.stop()

    # --- one ansible-playbook run ---------------------------------------------------------------
    def playbook(self, text, extra_vars, cache_path=None, check=False, env_extra=None):
        self.counter += 1
        run_dir = os.path.join(self.work, 'runs', '%04d' % self.counter)
        os.makedirs(run_dir)
        path = os.path.join(run_dir, 'playbook.yml')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(text)
        vars_path = os.path.join(run_dir, 'vars.json')
        with open(vars_path, 'w', encoding='utf-8') as handle:
            json.dump(extra_vars, handle)
        cmd = [os.path.join(BIN_DIR, 'ansible-playbook'), '-i', self.inventory, '-e', '@' + vars_path, path]
        if check:
            cmd.insert(1, '--check')
        env = dict(self.env)
        if cache_path:
            env['CREATIO_CACHE_PATH'] = cache_path
        env.update(env_extra or {})
        self.sim.clear_log()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False, timeout=1800)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        log = self.sim.log()
        counts = collections.Counter(entry['kind'] for entry in log)
        endpoints = collections.Counter(entry['endpoint'] for entry in log)
        result = {
            'rc': proc.returncode, 'wall': wall, 'cpu': cpu,
            'logins': counts.get('login', 0), 'tokens': counts.get('token', 0),
            'reads': counts.get('read', 0), 'writes': counts.get('write', 0), 'requests': len(log),
            'endpoints': dict(endpoints), 'recap': testbed.parse_recap(proc.stdout).get('localhost'),
        }
        if proc.returncode != 0:
            result['output_tail'] = _tail(proc.stdout + proc.stderr)
        return result

    # --- the scenarios of one size ----------------------------------------------------------------
    def collection_runs(self, size, via, wanted=COLLECTION_SCENARIOS):
        """first (always: the others start from its converged site), then the wanted others."""
        items = integrations(size)
        extra = {'creatio_integrations': items} if via == 'role' else {'bench_integrations': [effective(i) for i in items]}
        make = role_playbook if via == 'role' else loop_playbook
        cache_dir = tempfile.mkdtemp(prefix='cache-', dir=self.work)
        cache = os.path.join(cache_dir, 'facts.json')
        out = {}
        self.sim.reset()
        out['first'] = self.playbook(make(), extra, cache)
        clients_after_first = len([c for c in self.sim.state()['clients'] if c.get('name', '').startswith('bench-')])
        out['first']['clients_created'] = clients_after_first
        if 'rerun' in wanted:
            before = _stamps(cache_dir)
            out['rerun'] = self.playbook(make(), extra, cache)
            out['rerun']['files_rewritten'] = sorted(name for name, stamp in _stamps(cache_dir).items() if before.get(name) != stamp)
        if 'check' in wanted:
            out['check'] = self.playbook(make(), extra, cache, check=True)
        if 'rerun-noverify' in wanted:
            out['rerun-noverify'] = self.playbook(make(noverify=True), extra, cache)
        if 'rerun-nosession' in wanted:
            out['rerun-nosession'] = self.playbook(make(), extra, cache, env_extra={'CREATIO_REUSE_SESSION': 'false'})
        if 'check-new' in wanted:
            self.sim.reset()
            fresh = os.path.join(tempfile.mkdtemp(prefix='cache-', dir=self.work), 'facts.json')
            out['check-new'] = self.playbook(make(), extra, fresh, check=True)
            out['check-new']['clients_created'] = len(self.sim.state()['clients']) - 1  # minus the seeded one
        self.verify_collection(size, items, out, via)
        return out

    def baseline_run(self, size):
        items = integrations(size)
        self.sim.reset()
        result = self.playbook(baseline_playbook(items), {'creatio_site': self.sim.url})
        self.check(size, 'baseline', 'ran', result['rc'] == 0, result)
        self.check(size, 'baseline', 'one login, one AddClient per integration',
                   result['logins'] == 1 and result['endpoints'].get('AddClient', 0) == size, result)
        return result

    def floor_run(self, size):
        result = self.playbook(floor_playbook(size), {})
        self.check(size, 'floor', 'ran', result['rc'] == 0 and result['requests'] == 0, result)
        return result

    # --- what must hold ---------------------------------------------------------------------------
    def check(self, size, scenario, what, ok, result):
        entry = {'size': size, 'scenario': scenario, 'check': what, 'ok': bool(ok)}
        if not ok:
            keys = ('rc', 'logins', 'tokens', 'reads', 'writes', 'endpoints', 'recap', 'files_rewritten')
            entry['counts'] = dict((k, result.get(k)) for k in keys)
            entry['output_tail'] = result.get('output_tail')
        self.checks.append(entry)

    def verify_collection(self, size, items, out, via):
        redirects, minimum = redirect_calls(items)
        out['first']['redirect_calls_issue_minimum'] = minimum
        for scenario, result in out.items():
            self.check(size, scenario, 'ran (rc 0)', result['rc'] == 0, result)
            if scenario == 'rerun-nosession' and via == 'loop':
                self.check(size, scenario, 'one login per task', result['logins'] + result['tokens'] == size, result)
            elif scenario == 'rerun-nosession':
                self.check(size, scenario, 'one login (the role applies all integrations in one task)',
                           result['logins'] + result['tokens'] == 1, result)
            else:
                self.check(size, scenario, 'at most one login per run', result['logins'] + result['tokens'] <= 1, result)
            self.check(size, scenario, 'at most one read per integration', result['reads'] <= size, result)
            if via == 'role' and scenario != 'rerun-noverify':
                # One OData read for all integrations, split only to keep each query string under the
                # web server's limit (names, plus the client ids the cache knows).
                expected = odata_requests(self.collections, [i['name'] for i in items], with_client_ids=scenario not in ('first', 'check-new'))
                self.check(size, scenario, 'OData reads = %d (all lookups, split under the query string limit)' % expected,
                           result['reads'] == expected, result)
        first = out['first']
        self.check(size, 'first', 'exactly one login', first['logins'] + first['tokens'] == 1, first)
        self.check(size, 'first', 'one AddClient per integration (%d)' % size, first['endpoints'].get('AddClient', 0) == size, first)
        self.check(size, 'first', 'one AddRedirectUrls per authorization_code client (%d)' % redirects,
                   first['endpoints'].get('AddRedirectUrls', 0) == redirects, first)
        self.check(size, 'first', 'no other write', first['writes'] == size + redirects, first)
        self.check(size, 'first', 'every integration exists in the simulator', first.get('clients_created') == size, first)
        for scenario in ('rerun', 'check', 'rerun-noverify', 'check-new', 'rerun-nosession'):
            if scenario in out:
                self.check(size, scenario, 'no write', out[scenario]['writes'] == 0, out[scenario])
        for scenario in ('rerun', 'check', 'rerun-noverify', 'rerun-nosession'):
            if scenario in out:
                self.check(size, scenario, 'nothing reported changed', (out[scenario]['recap'] or {}).get('changed') == 0,
                           out[scenario])
        if 'rerun' in out:
            self.check(size, 'rerun', 'neither facts.json nor sessions.json rewritten',
                       not set(out['rerun'].get('files_rewritten', [])) & set(['facts.json', 'sessions.json']), out['rerun'])
        if 'check-new' in out:
            self.check(size, 'check-new', 'nothing created', out['check-new'].get('clients_created') == 0, out['check-new'])
            self.check(size, 'check-new', 'exactly one login', out['check-new']['logins'] + out['check-new']['tokens'] == 1,
                       out['check-new'])
        if 'rerun-noverify' in out:
            self.check(size, 'rerun-noverify', 'no request at all', out['rerun-noverify']['requests'] == 0, out['rerun-noverify'])


def _stamps(folder):
    """File name -> (inode, mtime_ns, size): a file replaced or written changes it."""
    out = {}
    for name in os.listdir(folder):
        info = os.stat(os.path.join(folder, name))
        out[name] = (info.st_ino, info.st_mtime_ns, info.st_size)
    return out


def _tail(text, lines=40):
    return '\n'.join(text.splitlines()[-lines:])


# ---------------------------------------------------------------- micro benchmarks

def cache_bench(sizes, collections_path):
    """FactsCache straight from plugins/module_utils/_cache.py: parse, lookup, update, size."""
    if collections_path not in sys.path:
        sys.path.insert(0, collections_path)
    from ansible_collections.creatio.oauth.plugins.module_utils import _cache as cache_mod  # pylint: disable=import-outside-toplevel
    site = 'https://bench.creatio.com'
    rows = []
    for size in sizes:
        folder = tempfile.mkdtemp(prefix='creatio-cache-bench-')
        try:
            path = os.path.join(folder, 'facts.json')
            facts = cache_mod.FactsCache(path)
            clients = dict(('bench-%05d' % i, _cache_record(i, cache_mod.now_iso())) for i in range(size))
            facts.file.update(lambda document: document.setdefault('sites', {}).setdefault(site, {}).__setitem__('clients', clients))
            repeat = 40 if size <= 500 else 10
            name = 'bench-%05d' % (size // 2)
            parse = _median_time(facts.file.read, repeat)
            usable = _median_time(lambda: facts.check_usable(writable=True), repeat)
            # The first lookup of a module run parses the file; the next ones (a batch looks up
            # every item) reuse that parse until the file is replaced.
            get = _median_time(lambda: cache_mod.FactsCache(path).get(site, name), repeat)
            get_again = _median_time(lambda: facts.get(site, name), repeat)
            counter = [0]

            def changed_put():
                counter[0] += 1
                record = _cache_record(size // 2, None)
                record['application_url'] = 'https://changed%d.example.com' % counter[0]
                facts.put(site, name, record)
            put = _median_time(changed_put, repeat)
            same = facts.get(site, name)
            same.pop('confirmed_at', None)
            same_put = _median_time(lambda: facts.put(site, name, dict(same)), repeat)
            document = facts.file.read()
            write = _median_time(lambda: facts.file._write(document), repeat)  # pylint: disable=protected-access
            rows.append({'clients': size, 'file_bytes': os.path.getsize(path), 'parse_ms': parse * 1e3,
                         'check_usable_ms': usable * 1e3, 'get_ms': get * 1e3, 'get_again_ms': get_again * 1e3,
                         'update_ms': put * 1e3,
                         'write_fsync_ms': write * 1e3, 'reconfirm_unchanged_ms': same_put * 1e3})
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return rows


def _cache_record(index, confirmed_at):
    record = {'client_id': uuid.UUID(int=index).hex, 'grant_type': 'authorization_code',
              'application_url': 'https://app%d.example.com' % index, 'system_user_id': None, 'active': True,
              'redirect_urls': [{'id': str(uuid.UUID(int=index * 2 + 1)), 'url': 'https://app%d.example.com/cb' % index},
                                {'id': str(uuid.UUID(int=index * 2 + 2)), 'url': 'https://app%d.example.com/cb2' % index}]}
    if confirmed_at:
        record['confirmed_at'] = confirmed_at
    return record


def _median_time(func, repeat):
    times = []
    for dummy in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def startup_bench(collections_path, repeat):
    """Process start-up: a bare AnsibleModule import (what ping pays) against the import of each
    module of the collection, in a fresh interpreter, with no bytecode written (AnsiballZ imports
    from a zip, so the collection's module_utils are compiled on every run)."""
    env = dict(os.environ, PYTHONPATH=collections_path, PYTHONDONTWRITEBYTECODE='1')
    targets = [('ansible.module_utils.basic (what ping imports)', 'ansible.module_utils.basic'),
               ('requests (alone)', 'requests'),
               ('ansible.module_utils.basic + requests', 'requests')]
    for name in ('creatio_oauth_client', 'creatio_oauth_clients', 'creatio_redirect_url', 'creatio_oauth_client_info'):
        targets.append(('module %s' % name, 'ansible_collections.creatio.oauth.plugins.modules.%s' % name))
    rows = []
    for label, module in targets:
        code = 'import ansible.module_utils.basic, %s' % module if label.startswith(('module', 'ansible')) else 'import %s' % module
        times = []
        for dummy in range(repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, '-c', code], env=env, check=True)
            times.append(time.perf_counter() - started)
        loaded = subprocess.run([sys.executable, '-c', code + '; import sys; print(" ".join(sorted(sys.modules)))'],
                                env=env, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
        rows.append({'what': label, 'ms': statistics.median(times) * 1e3, 'modules_loaded': len(loaded),
                     'loads_requests': 'requests' in loaded})
    return rows


# ---------------------------------------------------------------- report

def machine():
    model = None
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except IOError:
        pass
    from ansible.release import __version__ as core_version  # pylint: disable=import-outside-toplevel
    try:
        import requests  # pylint: disable=import-outside-toplevel
        requests_version = requests.__version__
    except ImportError:
        requests_version = None
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        'nproc': os.cpu_count(), 'cpu_model': model, 'platform': platform.platform(),
        'python': platform.python_version(), 'ansible_core': core_version, 'requests': requests_version,
        'loadavg_start': _loadavg(),
    }


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def summarise(raw, sizes):
    """Medians per size and scenario, ratios, marginal cost per integration (slope over N)."""
    table = []
    medians = {}
    for size in sizes:
        for scenario in ALL_SCENARIOS:
            runs = raw.get(str(size), {}).get(scenario) or []
            if not runs:
                continue
            walls = [r['wall'] for r in runs]
            last = runs[-1]
            row = {'size': size, 'scenario': scenario, 'runs': len(runs), 'wall_s': statistics.median(walls),
                   'wall_min_s': min(walls), 'wall_max_s': max(walls), 'cpu_s': statistics.median([r['cpu'] for r in runs]),
                   'logins': last['logins'] + last['tokens'], 'reads': last['reads'], 'writes': last['writes'],
                   'requests': last['requests']}
            row['per_integration_s'] = row['wall_s'] / size
            medians[(size, scenario)] = row['wall_s']
            table.append(row)
    cpus = dict(((r['size'], r['scenario']), r['cpu_s']) for r in table)
    for row in table:
        baseline = medians.get((row['size'], 'baseline'))
        floor = medians.get((row['size'], 'floor'))
        row['vs_baseline'] = row['wall_s'] / baseline if baseline else None
        row['vs_floor'] = row['wall_s'] / floor if floor else None
        # CPU time of the whole process tree: much less disturbed by other jobs on a shared machine.
        floor_cpu = cpus.get((row['size'], 'floor'))
        baseline_cpu = cpus.get((row['size'], 'baseline'))
        row['cpu_vs_floor'] = row['cpu_s'] / floor_cpu if floor_cpu else None
        row['cpu_vs_baseline'] = row['cpu_s'] / baseline_cpu if baseline_cpu else None
    marginal = {}
    marginal_cpu = {}
    if len(sizes) >= 2:
        for scenario in ALL_SCENARIOS:
            points = [(size, medians[(size, scenario)]) for size in sizes if (size, scenario) in medians]
            if len(points) >= 2:
                marginal[scenario] = _slope(points)
                marginal_cpu[scenario] = _slope([(size, cpus[(size, scenario)]) for size, _wall in points])
    return table, marginal, marginal_cpu


def _slope(points):
    n = len(points)
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    den = sum((p[0] - mean_x) ** 2 for p in points)
    return num / den if den else None


def targets(table, marginal, marginal_cpu, cache_rows, checks, sizes):
    by = dict(((r['size'], r['scenario']), r) for r in table)
    largest = max(sizes)
    out = []

    def add(name, ok, detail):
        out.append({'target': name, 'ok': ok, 'detail': detail})

    first_logins = [by[(s, 'first')]['logins'] for s in sizes if (s, 'first') in by]
    if first_logins:
        add('logins per run = 1 per site (first runs)', all(x == 1 for x in first_logins), 'first-run logins by N: %s' % first_logins)
    rerun_writes = [by[(s, 'rerun')]['writes'] for s in sizes if (s, 'rerun') in by]
    if rerun_writes:
        add('re-run writes = 0', all(x == 0 for x in rerun_writes), 're-run writes by N: %s' % rerun_writes)
    firsts = [(s, by[(s, 'first')]['writes'], s + redirect_calls(integrations(s))[1]) for s in sizes if (s, 'first') in by]
    if firsts:
        add('first-run writes = 1 AddClient per integration + 1 AddRedirectUrls per client with more than one URI',
            all(f[1] == f[2] for f in firsts),
            'N/sent/minimum: %s (single-URI authorization_code clients also get an AddRedirectUrls: it returns the URI id, '
            'AddClient does not)' % ', '.join('%d/%d/%d' % f for f in firsts))
    noverify = [by[(s, 'rerun-noverify')]['requests'] for s in sizes if (s, 'rerun-noverify') in by]
    if noverify:
        add('verify: false sends nothing', all(x == 0 for x in noverify), 'requests by N: %s' % noverify)
    for size in sizes:
        for scenario in ('rerun', 'rerun-noverify'):
            if (size, scenario) in by and (size, 'floor') in by:
                row = by[(size, scenario)]
                add('%s time per integration <= %.1f x floor per task (N=%d, median wall)' % (scenario, RERUN_FLOOR_FACTOR, size),
                    row['vs_floor'] <= RERUN_FLOOR_FACTOR, '%.3f s vs %.3f s per task: x%.2f (CPU time: x%.2f)' % (
                        row['per_integration_s'], by[(size, 'floor')]['per_integration_s'], row['vs_floor'], row['cpu_vs_floor']))
    for scenario in ('rerun', 'rerun-noverify'):
        if marginal.get(scenario) and marginal.get('floor'):
            ratio = marginal[scenario] / marginal['floor']
            cpu = marginal_cpu[scenario] / marginal_cpu['floor'] if marginal_cpu.get('floor') else float('nan')
            add('marginal %s cost per integration <= %.1f x floor (slope over N)' % (scenario, RERUN_FLOOR_FACTOR),
                ratio <= RERUN_FLOOR_FACTOR, '%.3f s vs %.3f s: x%.2f (CPU time: x%.2f)' % (marginal[scenario], marginal['floor'], ratio, cpu))
    for size in sizes:
        if (size, 'first') in by and (size, 'baseline') in by:
            ratio = by[(size, 'first')]['vs_baseline']
            add('first run faster than the uri baseline (N=%d, median wall)' % size, ratio < 1.0,
                '%.2f s vs %.2f s: x%.2f (CPU time: x%.2f)' % (
                    by[(size, 'first')]['wall_s'], by[(size, 'baseline')]['wall_s'], ratio, by[(size, 'first')]['cpu_vs_baseline']))
    big = [r for r in cache_rows if r['clients'] == max(r['clients'] for r in cache_rows)] if cache_rows else []
    if big and (largest, 'floor') in by:
        task = by[(largest, 'floor')]['per_integration_s'] * 1e3
        add('cache update at %d clients well under one task (< %d%%)' % (big[0]['clients'], CACHE_SHARE_OF_TASK * 100),
            big[0]['update_ms'] < CACHE_SHARE_OF_TASK * task, 'update %.1f ms vs %.0f ms per task' % (big[0]['update_ms'], task))
    failed = [c for c in checks if not c['ok']]
    add('every run did what it must (%d checks)' % len(checks), not failed, '%d failed' % len(failed))
    return out


def print_report(result):
    m = result['machine']
    print()
    print('creatio.oauth bench: %s, %s CPU(s) %s, Python %s, ansible-core %s, via %s, %d run(s) per scenario' % (
        m['date'], m['nproc'], m['cpu_model'], m['python'], m['ansible_core'], result['config']['via'], result['config']['repeat']))
    print('load average at start %s, at end %s' % (m['loadavg_start'], m.get('loadavg_end')))
    print()
    header = '%5s  %-15s %8s %8s %9s %8s %8s %8s %8s %7s %6s %6s' % (
        'N', 'scenario', 'wall s', 'min s', 's/integr', 'x uri', 'x ping', 'cpu s', 'cpu/ping', 'logins', 'reads', 'writes')
    print(header)
    print('-' * len(header))
    for row in result['table']:
        print('%5d  %-15s %8.2f %8.2f %9.3f %8s %8s %8.2f %8s %7d %6d %6d' % (
            row['size'], row['scenario'], row['wall_s'], row['wall_min_s'], row['per_integration_s'], _ratio(row['vs_baseline']),
            _ratio(row['vs_floor']), row['cpu_s'], _ratio(row['cpu_vs_floor']), row['logins'], row['reads'], row['writes']))
    if result['marginal']:
        print()
        print('marginal cost per integration (slope over N of the median wall time; of the CPU time):')
        floor = result['marginal'].get('floor')
        floor_cpu = result['marginal_cpu'].get('floor')
        for scenario in [s for s in ALL_SCENARIOS if result['marginal'].get(s) is not None]:
            slope = result['marginal'][scenario]
            cpu = result['marginal_cpu'][scenario]
            wall_note = ('  (x%.2f ping)' % (slope / floor)) if floor else ''
            cpu_note = ('  (x%.2f ping)' % (cpu / floor_cpu)) if floor_cpu else ''
            print('  %-15s %.3f s%s   cpu %.3f s%s' % (scenario, slope, wall_note, cpu, cpu_note))
    if result['cache']:
        print()
        print('facts cache (plugins/module_utils/_cache.py):')
        columns = ('clients', 'file bytes', 'parse ms', 'check_usable', 'get ms', 'next get', 'update ms', 'of which write',
                   'reconfirm same ms')
        print('  %8s %12s %9s %13s %8s %9s %10s %15s %17s' % columns)
        for row in result['cache']:
            print('  %8d %12d %9.2f %13.2f %8.2f %9.2f %10.2f %15.2f %17.2f' % (
                row['clients'], row['file_bytes'], row['parse_ms'], row['check_usable_ms'], row['get_ms'], row['get_again_ms'],
                row['update_ms'], row['write_fsync_ms'], row['reconfirm_unchanged_ms']))
    if result['startup']:
        print()
        print('module start-up (fresh interpreter, import only, no bytecode cache for the collection):')
        for row in result['startup']:
            note = '' if row['loads_requests'] else '  (requests not imported)'
            print('  %-50s %7.1f ms  %4d modules%s' % (row['what'], row['ms'], row['modules_loaded'], note))
    print()
    print('targets:')
    for target in result['targets']:
        print('  %-4s %s: %s' % ('PASS' if target['ok'] else 'MISS', target['target'], target['detail']))
    failed = [c for c in result['checks'] if not c['ok']]
    for check in failed:
        counts = json.dumps(check.get('counts'), sort_keys=True)
        print('  FAILED check: N=%s %s: %s %s' % (check['size'], check['scenario'], check['check'], counts))
        if check.get('output_tail'):
            print('    ' + check['output_tail'].replace('\n', '\n    '))
    print()
    print('results: %s (tables for the docs: %s)' % (result['config']['output'], os.path.splitext(result['config']['output'])[0] + '.rst'))


def rst_tables(result):
    """The figures as reStructuredText simple tables (docs/docsite/rst/performance.rst takes them as they are)."""
    m = result['machine']
    out = ['Measured %s on %s CPU(s) (%s), %s, Python %s, ansible-core %s, requests %s; load average (1/5/15 min) %s at '
           'the start, %s at the end; median of %d runs, through the %s.' % (
               m['date'], m['nproc'], m['cpu_model'], m['platform'], m['python'], m['ansible_core'], m['requests'],
               ' / '.join(str(x) for x in m['loadavg_start'] or []), ' / '.join(str(x) for x in m.get('loadavg_end') or []),
               result['config']['repeat'], 'integrations role' if result['config']['via'] == 'role' else 'one looping task'), '']
    rows = [['%d' % r['size'], r['scenario'], '%.2f' % r['wall_s'], '%.2f' % r['wall_min_s'], '%.3f' % r['per_integration_s'],
             _ratio(r['vs_baseline']), _ratio(r['vs_floor']), '%.2f' % r['cpu_s'], _ratio(r['cpu_vs_floor']),
             '%d' % r['logins'], '%d' % r['reads'], '%d' % r['writes']] for r in result['table']]
    out += _simple_table(['N', 'scenario', 'wall (s)', 'min (s)', 'per integration (s)', 'vs uri', 'vs ping', 'CPU (s)', 'CPU vs ping',
                          'logins', 'reads', 'writes'], rows)
    if result['marginal']:
        floor = result['marginal'].get('floor')
        floor_cpu = result['marginal_cpu'].get('floor')
        rows = [[scenario, '%.3f' % result['marginal'][scenario], _ratio(result['marginal'][scenario] / floor) if floor else '-',
                 '%.3f' % result['marginal_cpu'][scenario], _ratio(result['marginal_cpu'][scenario] / floor_cpu) if floor_cpu else '-']
                for scenario in ALL_SCENARIOS if result['marginal'].get(scenario) is not None]
        out += ['', 'Marginal cost of one more integration (slope over N):', '']
        out += _simple_table(['scenario', 'wall (s)', 'vs ping', 'CPU (s)', 'CPU vs ping'], rows)
    if result['cache']:
        rows = [['%d' % r['clients'], _size(r['file_bytes']), '%.2f' % r['parse_ms'], '%.2f' % r['get_ms'], '%.2f' % r['get_again_ms'],
                 '%.2f' % r['update_ms'], '%.2f' % r['write_fsync_ms'], '%.2f' % r['reconfirm_unchanged_ms']] for r in result['cache']]
        out += ['', 'Facts cache (``plugins/module_utils/_cache.py`` alone):', '']
        out += _simple_table(['clients', 'file size', 'parse (ms)', 'first lookup (ms)', 'next lookups (ms)', 'update (ms)',
                              'of which write + fsync (ms)', 'unchanged re-confirmation (ms)'], rows)
    if result['startup']:
        rows = [[r['what'], '%.0f' % r['ms'], '%d' % r['modules_loaded'], 'yes' if r['loads_requests'] else 'no'] for r in result['startup']]
        out += ['', 'Start-up of a fresh interpreter (import only):', '']
        out += _simple_table(['import', 'ms', 'modules loaded', 'requests imported'], rows)
    return '\n'.join(out) + '\n'


def _simple_table(header, rows):
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    rule = '  '.join('=' * w for w in widths)
    lines = [rule, '  '.join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), rule]
    lines += ['  '.join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return lines + [rule]


def _size(count):
    if count >= 1024 * 1024:
        return '%.1f MiB' % (count / 1024.0 / 1024)
    if count >= 1024:
        return '%.0f KiB' % (count / 1024.0)
    return '%d bytes' % count


def _ratio(value):
    return 'x%.2f' % value if value is not None else '-'


# ---------------------------------------------------------------- main

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', help='numbers of integrations, comma separated (default 1,10,50)')
    parser.add_argument('--repeat', type=int, help='runs per scenario; the median is reported (default 3)')
    parser.add_argument('--cache-sizes', help='clients in the facts cache micro benchmark (default 10,500,5000)')
    parser.add_argument('--quick', action='store_true', help='defaults become: sizes 1,10, one run each, cache sizes 10,500')
    parser.add_argument('--via', choices=('auto', 'role', 'loop'), default='auto',
                        help='how the collection is driven: the integrations role (auto: when it exists) or one looping task')
    parser.add_argument('--scenarios', default=','.join(DEFAULT_SCENARIOS),
                        help='default: %s; also: %s' % (', '.join(DEFAULT_SCENARIOS), ', '.join(OPT_IN_SCENARIOS)))
    parser.add_argument('--output', default=DEFAULT_OUTPUT, help='JSON results file (default build/bench/results.json)')
    parser.add_argument('--strict', action='store_true', help='exit 1 when a timing target is missed too')
    parser.add_argument('--keep', action='store_true', help='keep the work directory (playbooks, caches)')
    args = parser.parse_args(argv)
    for key, full, quick in (('sizes', '1,10,50', '1,10'), ('repeat', 3, 1), ('cache_sizes', '10,500,5000', '10,500')):
        if getattr(args, key) is None:
            setattr(args, key, quick if args.quick else full)
    args.size_list = sorted(set(int(x) for x in args.sizes.split(',') if x.strip()))
    args.cache_size_list = [int(x) for x in args.cache_sizes.split(',') if x.strip()]
    args.scenario_list = [s.strip() for s in args.scenarios.split(',') if s.strip()]
    unknown = set(args.scenario_list) - set(ALL_SCENARIOS)
    if unknown or args.repeat < 1 or not args.size_list or min(args.size_list) < 1:
        parser.error('bad --scenarios/--repeat/--sizes')
    if args.via == 'auto':
        args.via = 'role' if os.path.exists(ROLE_TASKS) else 'loop'
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.exists(os.path.join(BIN_DIR, 'ansible-playbook')):
        print('ansible-playbook is not beside %s: run this with the tools venv (make bench)' % sys.executable, file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix='creatio-bench-')
    bench = Bench(args, work)
    raw = {}
    started = time.time()
    info = machine()
    try:
        bench.setup()
        collection_wanted = [s for s in args.scenario_list if s in COLLECTION_SCENARIOS]
        for repetition in range(args.repeat):
            for size in args.size_list:
                per_size = raw.setdefault(str(size), {})
                print('[%4.0f s] repetition %d/%d, N=%d' % (time.time() - started, repetition + 1, args.repeat, size), flush=True)
                if collection_wanted:
                    for scenario, result in bench.collection_runs(size, args.via, collection_wanted).items():
                        if scenario in collection_wanted:
                            per_size.setdefault(scenario, []).append(result)
                if 'baseline' in args.scenario_list:
                    per_size.setdefault('baseline', []).append(bench.baseline_run(size))
                if 'floor' in args.scenario_list:
                    per_size.setdefault('floor', []).append(bench.floor_run(size))
        print('[%4.0f s] micro benchmarks' % (time.time() - started), flush=True)
        cache_rows = cache_bench(args.cache_size_list, bench.collections) if args.cache_size_list else []
        startup = startup_bench(bench.collections, 3 if args.quick else 7)
    finally:
        bench.close()
        if args.keep:
            print('work directory kept: %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    info['loadavg_end'] = _loadavg()
    info['bench_seconds'] = round(time.time() - started, 1)
    table, marginal, marginal_cpu = summarise(raw, args.size_list)
    result = {
        'machine': info,
        'config': {'sizes': args.size_list, 'repeat': args.repeat, 'via': args.via, 'cache_sizes': args.cache_size_list,
                   'scenarios': dict((s, SCENARIO_HELP[s]) for s in args.scenario_list), 'output': args.output},
        'table': table, 'marginal': marginal, 'marginal_cpu': marginal_cpu, 'cache': cache_rows, 'startup': startup,
        'checks': bench.checks, 'raw': raw,
    }
    result['targets'] = targets(table, marginal, marginal_cpu, cache_rows, bench.checks, args.size_list)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, 'w', encoding='utf-8') as handle:
        json.dump(result, handle, indent=1, sort_keys=True)
        handle.write('\n')
    with open(os.path.splitext(args.output)[0] + '.rst', 'w', encoding='utf-8') as handle:
        handle.write(rst_tables(result))
    print_report(result)
    failed_checks = [c for c in bench.checks if not c['ok']]
    missed = [t for t in result['targets'] if not t['ok']]
    if failed_checks or (args.strict and missed):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
