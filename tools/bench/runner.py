# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running ``ansible-playbook`` against the simulator, and checking every run against its request log."""

from __future__ import absolute_import, division, print_function

import collections
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from bench.common import ADMIN_PASSWORD, ADMIN_USER, BIN_DIR, COLLECTION_SCENARIOS, SIMULATOR_DIR, testbed
from bench.scenarios import (baseline_playbook, effective, floor_playbook, integrations, loop_playbook, odata_requests,
                             redirect_calls, role_playbook)

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
            self.check(size, 'rerun', 'neither the facts cache (facts.sites/*.json) nor sessions.json rewritten',
                       not [f for f in out['rerun'].get('files_rewritten', []) if f.endswith('.json')], out['rerun'])
        if 'check-new' in out:
            self.check(size, 'check-new', 'nothing created', out['check-new'].get('clients_created') == 0, out['check-new'])
            self.check(size, 'check-new', 'exactly one login', out['check-new']['logins'] + out['check-new']['tokens'] == 1,
                       out['check-new'])
        if 'rerun-noverify' in out:
            self.check(size, 'rerun-noverify', 'no request at all', out['rerun-noverify']['requests'] == 0, out['rerun-noverify'])


def _stamps(folder):
    """File path under ``folder`` -> (inode, mtime_ns, size): a file replaced or written changes it."""
    out = {}
    for base, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(base, name)
            info = os.stat(path)
            out[os.path.relpath(path, folder)] = (info.st_ino, info.st_mtime_ns, info.st_size)
    return out


def _tail(text, lines=40):
    return '\n'.join(text.splitlines()[-lines:])

