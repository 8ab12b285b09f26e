# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running ``ansible-playbook`` against the simulator, and checking every run against its request log."""

from __future__ import absolute_import, division, print_function

import collections
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from bench.common import ADMIN_PASSWORD, ADMIN_USER, BIN_DIR, COLLECTION_SCENARIOS, SIMULATOR_DIR, testbed
from bench.scenarios import (SITES_GROUP, baseline_playbook, effective, floor_playbook, integrations, loop_playbook,
                             odata_requests, redirect_calls, redirect_rows_requests, role_playbook, sites_baseline_playbook, sites_inventory,
                             sites_module_playbook, sites_ping_playbook, sites_role_playbook)

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
        code_items = [i for i in items if effective(i)['grant_type'] == 'authorization_code']
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
            # A creation is read back by name (issue 14: another controller may have created it too).
            read_backs = size if scenario == 'first' else 0
            # An authorization code integration Creatio has is read with its redirect URI rows
            # (issue 14: the site's list wins over the cache's), except without verify.
            with_rows = 0 if scenario in ('first', 'check-new', 'rerun-noverify') else len(code_items)
            # The first run on a site that meets redirect URIs finds their entity in $metadata (kept;
            # but check mode keeps nothing, so each task of a check-mode loop reads it again).
            metadata = 0
            if code_items and scenario in ('first', 'check-new'):
                metadata = len(code_items) if (via, scenario) == ('loop', 'check-new') else 1
            self.check(size, scenario, 'at most one read per integration (two with redirect URI rows, one read back per creation)',
                       result['reads'] <= size + with_rows + read_backs + metadata, result)
            if via == 'role' and scenario != 'rerun-noverify':
                # One OData read for all integrations, split only to keep each query string under the
                # web server's limit (names, plus the client ids the cache knows).
                expected = odata_requests(self.collections, [i['name'] for i in items], with_client_ids=scenario not in ('first', 'check-new'))
                rows = redirect_rows_requests(self.collections, with_rows)
                self.check(size, scenario, 'OData reads = %d (all lookups, split under the query string limit) + %d (the redirect '
                           'URI rows of %d integrations) + %d read backs + %d $metadata' % (expected, rows, with_rows, read_backs, metadata),
                           result['reads'] == expected + rows + read_backs + metadata, result)
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


# ---------------------------------------------------------------- many sites (issue 15)


class SitesBench(object):
    """S simulated sites (SimulatorFleet), N integrations each, an inventory with one host per site,
    ``ansible-playbook`` with forks F: the collection's sites playbook (first run, re-run, check), one
    ``ansible.builtin.ping`` per site, and the ``uri`` baseline. Every site's request log is counted
    and checked, and the locks the modules take are timed (CREATIO_LOCK_STATS)."""

    def __init__(self, sites, size, forks, work, collections):
        self.sites = sites
        self.size = size
        self.forks = forks
        self.work = os.path.join(work, 'sites')
        self.collections = collections
        self.fleet = None
        self.counter = 0
        self.checks = []
        self.items = integrations(size)
        self.inventory = None
        self.env = None
        self.cache_dir = None
        self.converged = []

    def setup(self):
        if SIMULATOR_DIR not in sys.path:
            sys.path.insert(0, SIMULATOR_DIR)
        import creatio_simulator  # pylint: disable=import-error,import-outside-toplevel
        self.fleet = creatio_simulator.SimulatorFleet(self.sites).start()
        home = os.path.join(self.work, 'home')
        os.makedirs(os.path.join(home, '.ansible', 'tmp'))
        config = os.path.join(self.work, 'ansible.cfg')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write('[defaults]\n')
        self.inventory = os.path.join(self.work, 'inventory.yml')
        with open(self.inventory, 'w', encoding='utf-8') as handle:
            handle.write(sites_inventory([site.url for site in self.fleet], self.items, sys.executable,
                                         os.path.join(self.work, 'secrets')))
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
            'ANSIBLE_STDOUT_CALLBACK': 'default',
        })
        self.env = env

    def close(self):
        if self.fleet is not None:
            self.fleet.stop()

    def reset(self):
        """Every site back to its seed; a new, empty facts cache and secrets folder."""
        self.fleet.reset()
        self.cache_dir = tempfile.mkdtemp(prefix='cache-', dir=self.work)
        secrets = os.path.join(self.work, 'secrets')
        if os.path.isdir(secrets):
            shutil.rmtree(secrets)

    def run(self, scenario, text, check=False, extra_vars=None):
        self.counter += 1
        run_dir = os.path.join(self.work, 'runs', '%04d-%s' % (self.counter, scenario))
        os.makedirs(run_dir)
        path = os.path.join(run_dir, 'playbook.yml')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(text)
        stats = os.path.join(run_dir, 'locks.jsonl')
        cmd = [os.path.join(BIN_DIR, 'ansible-playbook'), '-i', self.inventory, '-f', str(self.forks),
               '-e', json.dumps(dict(extra_vars or {}, creatio_sites=SITES_GROUP)), path]
        if check:
            cmd.insert(1, '--check')
        env = dict(self.env, CREATIO_CACHE_PATH=os.path.join(self.cache_dir, 'facts.json'), CREATIO_LOCK_STATS=stats)
        for site in self.fleet:
            site.clear_log()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False, timeout=3600)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        per_site = []
        for site in self.fleet:
            log = site.log()
            kinds = collections.Counter(entry['kind'] for entry in log)
            endpoints = collections.Counter(entry['endpoint'] for entry in log)
            per_site.append({'logins': kinds.get('login', 0) + kinds.get('token', 0), 'reads': kinds.get('read', 0),
                             'writes': kinds.get('write', 0), 'requests': len(log), 'endpoints': dict(endpoints)})
        recap = testbed.parse_recap(proc.stdout)
        result = {
            'scenario': scenario, 'rc': proc.returncode, 'wall': wall,
            'cpu': (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            'per_site': per_site, 'locks': lock_summary(stats, wall, self.forks),
            'changed_hosts': sorted(h for h, c in recap.items() if c.get('changed')),
            'failed_hosts': sorted(h for h, c in recap.items() if c.get('failed') or c.get('unreachable')),
            'hosts': len(recap),
        }
        if proc.returncode != 0:
            result['output_tail'] = _tail(proc.stdout + proc.stderr)
        return result

    def runs(self, repeat, baseline=True):
        """first (fresh sites, empty cache), then ``repeat`` times: ping, re-run, check, and the role's
        module task alone (the breakdown of a re-run); then the uri baseline on fresh sites. Returns
        {scenario: [run, ...]}."""
        out = {'first': [], 'rerun': [], 'check': [], 'ping': [], 'module': [], 'baseline': []}
        self.reset()
        out['first'].append(self.run('first', sites_role_playbook()))
        self.converged = [len([c for c in site.state()['clients'] if not c.get('seeded')]) for site in self.fleet]
        for _repetition in range(repeat):
            out['ping'].append(self.run('ping', sites_ping_playbook()))
            out['rerun'].append(self.run('rerun', sites_role_playbook()))
            out['check'].append(self.run('check', sites_role_playbook(), check=True))
            out['module'].append(self.run('module', sites_module_playbook()))
        if baseline:
            self.reset()
            out['baseline'].append(self.run('baseline', sites_baseline_playbook(self.items)))
        self.verify(out)
        return out

    # --- what must hold ---------------------------------------------------------------------------
    def check(self, scenario, what, ok, run):
        entry = {'size': 'sites', 'scenario': 'sites-' + scenario, 'check': what, 'ok': bool(ok)}
        if not ok:
            entry['counts'] = {'rc': run.get('rc'), 'failed_hosts': run.get('failed_hosts'),
                               'changed_hosts': run.get('changed_hosts'),
                               'per_site': [dict((k, s[k]) for k in ('logins', 'reads', 'writes')) for s in run.get('per_site', [])]}
            entry['output_tail'] = run.get('output_tail')
        self.checks.append(entry)

    def verify(self, out):
        redirects, _minimum = redirect_calls(self.items)
        reads = odata_requests(self.collections, [i['name'] for i in self.items], with_client_ids=True)
        first_reads = odata_requests(self.collections, [i['name'] for i in self.items], with_client_ids=False)
        # the redirect URI rows of the authorization code integrations, read once a site has them; the
        # first run finds the entity that holds them in $metadata (issue 14)
        code_items = [i for i in self.items if effective(i)['grant_type'] == 'authorization_code']
        reads += redirect_rows_requests(self.collections, len(code_items))
        first_reads += 1 if code_items else 0
        # and the integrations a run created, read back once more together at the end of the batch (issue 14:
        # _executor.recheck_own_creations, a rival stamped in the same CreatedOn step)
        recheck_reads = odata_requests(self.collections, [i['name'] for i in self.items], with_client_ids=False)
        for scenario, runs in out.items():
            for run in runs:
                self.check(scenario, 'ran on every site (rc 0, %d hosts)' % self.sites,
                           run['rc'] == 0 and run['hosts'] == self.sites and not run['failed_hosts'], run)
        for run in out['first']:
            sites = run['per_site']
            self.check('first', 'one login per site', all(s['logins'] == 1 for s in sites), run)
            # one read for the lookups, and each creation read back by name (issue 14: separate caches racing)
            self.check('first', 'one read per site (%d OData request(s), $metadata included) + one read back per creation (%d) '
                       '+ the creations read back once more (%d)' % (first_reads, self.size, recheck_reads),
                       all(s['reads'] == first_reads + self.size + recheck_reads for s in sites), run)
            self.check('first', '%d writes per site (AddClient per integration, AddRedirectUrls per authorization code one)'
                       % (self.size + redirects), all(s['writes'] == self.size + redirects for s in sites), run)
        self.check('first', 'every site has its %d integrations' % self.size, all(n == self.size for n in self.converged), out['first'][0])
        for scenario in ('rerun', 'check', 'module'):
            for run in out[scenario]:
                sites = run['per_site']
                self.check(scenario, 'no write on any site', all(s['writes'] == 0 for s in sites), run)
                self.check(scenario, 'one read per site (%d OData request(s), redirect URI rows included)' % reads,
                           all(s['reads'] == reads for s in sites), run)
                self.check(scenario, '0 or 1 login per site', all(s['logins'] <= 1 for s in sites), run)
                self.check(scenario, 'nothing reported changed', not run['changed_hosts'], run)
        for run in out['ping']:
            self.check('ping', 'no request to any site', all(s['requests'] == 0 for s in run['per_site']), run)
        for run in out['baseline']:
            sites = run['per_site']
            self.check('baseline', 'one login and %d AddClient per site' % self.size,
                       all(s['logins'] == 1 and s['endpoints'].get('AddClient', 0) == self.size for s in sites), run)


def lock_summary(path, wall, forks):
    """What the CREATIO_LOCK_STATS lines of one run say: locks taken, seconds waited, by kind of lock."""
    entries = []
    if os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            entries = [json.loads(line) for line in handle if line.strip()]
    kinds = collections.defaultdict(lambda: {'locks': 0, 'wait_s': 0.0, 'held_s': 0.0, 'max_wait_s': 0.0})
    for entry in entries:
        kind = lock_kind(entry['lock'])
        kinds[kind]['locks'] += 1
        kinds[kind]['wait_s'] += entry['wait']
        kinds[kind]['held_s'] += entry['held']
        kinds[kind]['max_wait_s'] = max(kinds[kind]['max_wait_s'], entry['wait'])
    waited = sum(entry['wait'] for entry in entries)
    return {'locks': len(entries), 'wait_s': waited, 'max_wait_s': max([e['wait'] for e in entries] or [0.0]),
            'held_s': sum(entry['held'] for entry in entries),
            # summed over every process, against the wall time of the run: an upper bound of the share
            'share_of_wall': waited / wall if wall else 0.0,
            # against the time of all the forks together
            'share_of_forks': waited / (wall * forks) if wall else 0.0,
            'by_kind': dict(kinds)}


def lock_kind(name):
    if name == 'sessions.json.lock':
        return 'session store'
    if name.endswith('.json.lock') and '-' in name:
        return 'facts cache (site file)'
    if name.endswith('.json.lock'):
        return 'facts cache (single document)'
    return 'integration name'
