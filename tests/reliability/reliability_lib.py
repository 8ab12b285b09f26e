# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the reliability suite: the simulator with a trigger hook, playbook runs at -vvv with
a secrets scan, the convergence check (simulator == declared == cache, no duplicate) and the
results table.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import quote, quote_plus, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.realpath(os.path.join(HERE, '..', '..'))
SIMULATOR_DIR = os.path.join(ROOT, 'tests', 'simulator')
OUTPUT_DIR = os.path.join(ROOT, 'tests', 'output', 'reliability')
ROWS_ROOT = os.path.join(OUTPUT_DIR, 'rows')
# One folder of rows per pytest session (set by the controller, inherited by xdist workers), so that
# two sessions in one checkout never mix their rows.
ROWS_ENV = 'CREATIO_RELIABILITY_ROWS_DIR'
TABLE_MD = os.path.join(OUTPUT_DIR, 'table.md')
TABLE_JSON = os.path.join(OUTPUT_DIR, 'table.json')

SIZE = os.environ.get('CREATIO_RELIABILITY_SIZE', 'small').strip().lower() or 'small'
if SIZE not in ('small', 'full'):
    raise ValueError('CREATIO_RELIABILITY_SIZE must be small or full, got %r' % SIZE)
FULL = SIZE == 'full'

if SIMULATOR_DIR not in sys.path:
    sys.path.insert(0, SIMULATOR_DIR)

import creatio_simulator  # noqa: E402  pylint: disable=wrong-import-position,import-error


def _load_functional_helpers():
    """tests/functional/helpers.py under a name of its own (the functional tests import it as ``helpers``)."""
    import importlib.util  # pylint: disable=import-outside-toplevel
    spec = importlib.util.spec_from_file_location('creatio_functional_helpers',
                                                  os.path.join(ROOT, 'tests', 'functional', 'helpers.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_HELPERS = _load_functional_helpers()

ADMIN_USER = 'Supervisor'
# Distinctive (the seeded one equals the user name, which a scan cannot tell apart), with quotes
# and a backslash: the login body must be JSON-encoded, never formatted.
ADMIN_PASSWORD = 'Rel-Adm1n"pa\\ss\'w0rd'
VIEWER_USER = 'Viewer'
VIEWER_PASSWORD = 'Rel-V1ewer-pa55word'
AUTOMATION_CLIENT_ID = creatio_simulator.AUTOMATION_CLIENT_ID
AUTOMATION_CLIENT_SECRET = creatio_simulator.AUTOMATION_CLIENT_SECRET
POWERBI_USER_ID = creatio_simulator.POWERBI_USER_ID
WEBHOOK_USER_ID = creatio_simulator.WEBHOOK_USER_ID
# The OAuthConfigService calls the workload makes (the simulator has more: GetClientSecret, CreateTechnicalUser).
SERVICE_METHODS = ('AddClient', 'AddRedirectUrls', 'UpdateRedirectUrl', 'DeleteRedirectUrl', 'UpdateClient', 'DeleteClient')


def simulator_module():
    return creatio_simulator


class ReliabilitySimulator(creatio_simulator.Simulator):
    """The strict simulator. Its public test hooks are used here: ``trigger(endpoint, action,
    skip=0, label=None)`` runs ``action(sim)`` right before the (skip+1)-th request to ``endpoint``
    is handled (so that request already sees its effect: an expired session, a rotated CSRF token, a
    switch turned off), ``fired``, ``pending_triggers()``, ``in_flight()`` and ``wait_settled()``
    (a slow faulted request goes on after its client gave up)."""


# ---------------------------------------------------------------- logins

def login_env(sim, login='forms'):
    """Environment entries for one login method (None removes a variable)."""
    if login == 'oauth':
        return {'CREATIO_USERNAME': None, 'CREATIO_PASSWORD': None,
                'CREATIO_CLIENT_ID': AUTOMATION_CLIENT_ID, 'CREATIO_CLIENT_SECRET': AUTOMATION_CLIENT_SECRET,
                'CREATIO_IDENTITY_URL': sim.identity_url}
    user, password = (VIEWER_USER, VIEWER_PASSWORD) if login == 'viewer' else (ADMIN_USER, ADMIN_PASSWORD)
    return {'CREATIO_USERNAME': user, 'CREATIO_PASSWORD': password, 'CREATIO_CLIENT_ID': None,
            'CREATIO_CLIENT_SECRET': None, 'CREATIO_IDENTITY_URL': None}


# ---------------------------------------------------------------- secrets

def encodings(secret):
    """The forms a secret could take in a text: raw, JSON-escaped (ASCII or not, "/" escaped or not),
    percent-encoded (a path segment, a path, a query), form-encoded, with upper- or lower-case hex
    digits, and Python's repr. Written out here, not taken from the collection: the scan checks its
    scrubbing, so it must not share its mistakes."""
    forms = {secret, repr(secret)[1:-1]}
    for escaped in (json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]):
        forms.update([escaped, escaped.replace('/', '\\/')])
    for encoded in (quote(secret, safe=''), quote(secret), quote_plus(secret), urlencode({'x': secret})[2:]):
        forms.update([encoded, re.sub('%[0-9A-F]{2}', lambda m: m.group(0).lower(), encoded)])
    return sorted(f for f in forms if f)


def _count(text, secret):
    return sum(text.count(form) for form in encodings(secret))


def _file_text(path):
    if not path or not os.path.exists(path):
        return ''
    with open(path, 'rb') as handle:
        return handle.read().decode('utf-8', 'replace')


class SecretLeak(AssertionError):
    pass


def scan_for_secrets(texts, secrets, allowed=None):
    """``texts``: {label: text}; ``secrets``: {label: value}; ``allowed``: {text label: {secret
    value: number of allowed occurrences}}. Returns a list of findings (empty = clean)."""
    findings = []
    for text_label, text in texts.items():
        if not text:
            continue
        for secret_label, secret in secrets.items():
            if not secret or len(secret) < 4:
                continue
            found = _count(text, secret)
            permitted = ((allowed or {}).get(text_label) or {}).get(secret, 0)
            if found > permitted:
                findings.append('%s found %d time(s) in %s (allowed %d)' % (secret_label, found, text_label, permitted))
    return findings


# ---------------------------------------------------------------- rows of the table

def rows_dir():
    return os.environ.get(ROWS_ENV) or os.path.join(ROWS_ROOT, 'session-%d' % os.getpid())


def _rows_file():
    return os.path.join(rows_dir(), 'rows-%d.jsonl' % os.getpid())


def start_session():
    """Controller: a fresh rows folder for this session; folders of sessions that ended go."""
    for path in glob.glob(os.path.join(ROWS_ROOT, 'session-*')):
        try:
            os.kill(int(path.rsplit('-', 1)[1]), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass
    path = os.path.join(ROWS_ROOT, 'session-%d' % os.getpid())
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.environ[ROWS_ENV] = path


def add_row(row):
    os.makedirs(rows_dir(), exist_ok=True)
    with open(_rows_file(), 'a') as handle:
        handle.write(json.dumps(row, sort_keys=True) + '\n')


def add_scan(entry):
    os.makedirs(rows_dir(), exist_ok=True)
    with open(os.path.join(rows_dir(), 'scans-%d.jsonl' % os.getpid()), 'a') as handle:
        handle.write(json.dumps(entry, sort_keys=True) + '\n')


def scan_row():
    """One table row that sums up every secrets scan of the session."""
    scans = []
    for path in sorted(glob.glob(os.path.join(rows_dir(), 'scans-*.jsonl'))):
        with open(path) as handle:
            scans.extend(json.loads(line) for line in handle if line.strip())
    if not scans:
        return None
    leaks = [s for s in scans if s['leaks']]
    return {'section': 'secrets', 'order': 0,
            'fault': 'every password, client secret, cookie and token in play',
            'where': '-vvv stdout+stderr, ansible log, results and diffs, facts cache, sessions.json',
            'injected': '%d runs, %d tests' % (len(scans), len(set(s['test'] for s in scans))),
            'outcome': 'up to %d secrets per run, %d texts scanned' % (
                max(s['secrets'] for s in scans), sum(s['texts'] for s in scans)),
            'check': 'ok: only the documented client_secret return value of creating runs' if not leaks else
                     'FAILED: %s' % '; '.join('%s: %s' % (s['test'], s['leaks']) for s in leaks[:3])}


def read_rows():
    rows = []
    for path in sorted(glob.glob(os.path.join(rows_dir(), 'rows-*.jsonl'))):
        with open(path) as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    summary = scan_row()
    if summary:
        rows.append(summary)
    order = {'faults': 0, 'kills': 1, 'concurrency': 2, 'random': 3, 'bad input': 4, 'secrets': 5, 'tls': 6}
    rows.sort(key=lambda r: (order.get(r['section'], 9), r.get('order', 0), r['fault'], r['where']))
    return rows


COLUMNS = (('section', 'section'), ('fault', 'fault'), ('where', 'where'), ('injected', 'injected'),
           ('outcome', 'outcome'), ('check', 'nothing lost (sim == declared == cache, duplicates)'))


def _cell(value):
    return str(value).replace('|', '\\|').replace('\n', ' ')


def write_table(rows):
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    lines = ['| ' + ' | '.join(title for _key, title in COLUMNS) + ' |',
             '|' + '---|' * len(COLUMNS)]
    for row in rows:
        lines.append('| ' + ' | '.join(_cell(row.get(key, '')) for key, _title in COLUMNS) + ' |')
    failed = [r for r in rows if not str(r.get('check', '')).startswith('ok')]
    lines.append('')
    lines.append('%d rows, size %s, %d not ok' % (len(rows), SIZE, len(failed)))
    text = '\n'.join(lines) + '\n'
    with open(TABLE_MD, 'w') as handle:
        handle.write(text)
    with open(TABLE_JSON, 'w') as handle:
        json.dump({'size': SIZE, 'rows': rows}, handle, indent=1, sort_keys=True)
    return text


# ---------------------------------------------------------------- convergence

class Convergence(object):
    """The outcome of comparing the simulator, the declaration and the facts cache."""

    def __init__(self):
        self.problems = []
        self.duplicate_clients = {}
        self.duplicate_uri_rows = {}

    @property
    def ok(self):
        return not self.problems and not self.duplicate_clients and not self.duplicate_uri_rows

    def summary(self, allow_uri_duplicates=False):
        parts = []
        if self.problems:
            parts.append('; '.join(self.problems))
        if self.duplicate_clients:
            parts.append('DUPLICATE integrations %r' % self.duplicate_clients)
        if self.duplicate_uri_rows:
            label = 'documented duplicate redirect URI rows' if allow_uri_duplicates else 'DUPLICATE redirect URI rows'
            parts.append('%s %r' % (label, self.duplicate_uri_rows))
        return ', '.join(parts)


def sim_clients(sim):
    """{name: [client, ...]} of the simulator without the seeded automation client."""
    found = {}
    for client in sim.state()['clients']:
        if not client.get('seeded'):
            found.setdefault(client['name'], []).append(client)
    return found


def read_cache(cache_path):
    """Every site of the facts cache as one document (one file per site; see helpers.cache_document)."""
    return _HELPERS.cache_document(cache_path)


def cache_exists(cache_path):
    return bool(_HELPERS.cache_files(cache_path))


def cache_clients(cache_path, sim):
    return read_cache(cache_path).get('sites', {}).get(sim.url.rstrip('/'), {}).get('clients', {})


def check_converged(sim, cache_path, declared):
    """``declared``: {name: {'grant_type', 'application_url', 'system_user_id', 'active',
    'redirect_urls'}} (a key left out, or None for active/redirect_urls, is not compared)."""
    conv = Convergence()
    server = sim_clients(sim)
    for name, clients in server.items():
        if len(clients) > 1:
            conv.duplicate_clients[name] = len(clients)
    if set(server) != set(declared):
        conv.problems.append('simulator has %s, declared %s' % (sorted(server), sorted(declared)))
    if not cache_exists(cache_path):
        conv.problems.append('no facts cache at %s' % cache_path)
        cached = {}
    else:
        try:
            document = read_cache(cache_path)
        except ValueError as exc:
            conv.problems.append('the facts cache does not parse: %s' % exc)
            document = {}
        if document.get('schema_version') != 1:
            conv.problems.append('cache schema_version %r' % document.get('schema_version'))
        cached = document.get('sites', {}).get(sim.url.rstrip('/'), {}).get('clients', {})
    if set(cached) != set(declared):
        conv.problems.append('cache has %s, declared %s' % (sorted(cached), sorted(declared)))
    for name, want in declared.items():
        clients = server.get(name) or []
        if not clients:
            continue
        client = clients[0]
        fields = (('grant_type', 'grantType'), ('application_url', 'applicationUrl'),
                  ('system_user_id', 'systemUserId'), ('active', 'isActive'))
        for key, sim_key in fields:
            if key in want and want[key] is not None and client[sim_key] != want[key]:
                conv.problems.append('%r: simulator %s=%r, declared %r' % (name, sim_key, client[sim_key], want[key]))
        urls = [row['redirectUrl'] for row in client['redirectUrls']]
        dups = dict((u, urls.count(u)) for u in set(urls) if urls.count(u) > 1)
        if dups:
            conv.duplicate_uri_rows[name] = dups
        if want.get('redirect_urls') is not None and set(urls) != set(want['redirect_urls']):
            conv.problems.append('%r: simulator redirect URIs %s, declared %s' % (name, sorted(set(urls)), sorted(want['redirect_urls'])))
        record = cached.get(name)
        if record is None:
            continue
        if record.get('pending'):
            conv.problems.append('%r is still pending in the cache' % name)
        if record.get('client_id') not in [c['clientId'] for c in clients]:
            conv.problems.append('%r: cache client_id %s is not the simulator one %s'
                                 % (name, record.get('client_id'), [c['clientId'] for c in clients]))
        sim_rows = dict((row['id'], row['redirectUrl']) for c in clients for row in c['redirectUrls'])
        for row in record.get('redirect_urls') or []:
            if row.get('id') is not None and sim_rows.get(row['id']) != row['url']:
                conv.problems.append('%r: cache redirect URI %s (id %s) is not on the simulator' % (name, row['url'], row['id']))
        cached_urls = set(row['url'] for row in record.get('redirect_urls') or [])
        if want.get('redirect_urls') is not None and cached_urls != set(want['redirect_urls']):
            conv.problems.append('%r: cache redirect URIs %s, declared %s' % (name, sorted(cached_urls), sorted(want['redirect_urls'])))
    return conv


# ---------------------------------------------------------------- one test's runs

class Reliability(object):
    """Runs playbooks for one test; scans every run for secrets; records table rows."""

    def __init__(self, nodeid, sim, run_playbook, cache_path, tmp_path, spawn=None):
        self.nodeid = nodeid
        self._spawn = spawn
        self._spawned = []
        self.sim = sim
        self._run_playbook = run_playbook
        self.cache_path = cache_path
        self.tmp_path = tmp_path
        self.runs = []
        self.scanned = 0
        self._logs = tmp_path / 'ansible-logs'
        self._logs.mkdir(exist_ok=True)
        self.returned_secrets = set()
        self.extra_secrets = {}
        self.secrets_checked = set()

    def close(self):
        for proc in self._spawned:
            if proc.poll() is None:
                kill_tree(proc.pid)
                proc.wait()

    # --- processes started without waiting (killed runs, concurrent runs) -------------------
    def spawn(self, playbook_text, label, extra_vars=None, login='forms', env=None, verbosity=3):
        """Start ansible-playbook in its own process group; returns a Spawned."""
        run_dir = self.tmp_path / 'spawned' / label
        run_dir.mkdir(parents=True)
        playbook = run_dir / 'playbook.yml'
        playbook.write_text(playbook_text)
        inventory = run_dir / 'inventory.ini'
        inventory.write_text(u'localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
        args = [self._spawn['ansible_playbook'], '-i', str(inventory), '--diff']
        if extra_vars:
            vars_path = run_dir / 'extra_vars.json'
            vars_path.write_text(json.dumps(extra_vars))
            args += ['-e', '@' + str(vars_path)]
        if verbosity:
            args.append('-' + 'v' * verbosity)
        args.append(str(playbook))
        run_env = dict(self._spawn['env'])
        for key, value in dict(self.base_env(login), ANSIBLE_LOG_PATH=str(run_dir / 'ansible.log'), **(env or {})).items():
            if value is None:
                run_env.pop(key, None)
            else:
                run_env[key] = value
        run_env[self._spawn['results_env']] = str(run_dir / 'results.jsonl')
        stdout = open(str(run_dir / 'stdout'), 'w')
        stderr = open(str(run_dir / 'stderr'), 'w')
        try:
            proc = subprocess.Popen(args, cwd=str(run_dir), env=run_env, stdin=subprocess.DEVNULL, stdout=stdout,
                                    stderr=stderr, start_new_session=True)
        finally:
            stdout.close()
            stderr.close()
        self._spawned.append(proc)
        return Spawned(self, proc, run_dir, args)

    # --- runs -------------------------------------------------------------------------------
    def base_env(self, login='forms', timeout=None):
        env = {'NO_PROXY': '127.0.0.1,localhost', 'no_proxy': '127.0.0.1,localhost',
               'HTTP_PROXY': None, 'HTTPS_PROXY': None, 'http_proxy': None, 'https_proxy': None,
               'ALL_PROXY': None, 'all_proxy': None}
        env.update(login_env(self.sim, login))
        env['CREATIO_URL'] = self.sim.url
        env['CREATIO_CACHE_PATH'] = self.cache_path
        if timeout is not None:
            env['CREATIO_REQUEST_TIMEOUT'] = str(timeout)
        return env

    def run(self, playbook, extra_vars=None, login='forms', timeout=None, env=None, check=False, diff=True,
            verbosity=3, scan=True, process_timeout=300, cache_path=None):
        """One ansible-playbook run, scanned for secrets; ``cache_path``: a facts cache of its own
        (another controller, an AWX job) instead of the test's."""
        run_env = self.base_env(login, timeout)
        if cache_path:
            run_env['CREATIO_CACHE_PATH'] = cache_path
        log_path = str(self._logs / ('%02d.log' % (len(self.runs) + 1)))
        run_env['ANSIBLE_LOG_PATH'] = log_path
        run_env.update(env or {})
        result = self._run_playbook(playbook, extra_vars=extra_vars, check=check, diff=diff, verbosity=verbosity,
                                    env=run_env, timeout=process_timeout)
        result.log_path = log_path
        self.runs.append(result)
        if scan:
            self.scan(result, cache_path=cache_path)
        return result

    # --- secrets ----------------------------------------------------------------------------
    def known_secrets(self, cache_path=None):
        """Every password and client secret in play, plus the session cookies and tokens the
        simulator handed out (those may be in sessions.json, nowhere else). ``cache_path``: the
        facts cache whose sessions.json is read (default: the test's own)."""
        issued = self.sim.issued_secrets()
        client_secrets = issued['client_secrets']
        sessions = [(s['aspxauth'], {'csrf': s['csrf']}) for s in issued['sessions']]
        tokens = issued['tokens']
        secrets = {'admin password': ADMIN_PASSWORD, 'viewer password': VIEWER_PASSWORD}
        for client_id, secret in client_secrets.items():
            secrets['client secret of %s' % client_id] = secret
        for value in self.returned_secrets:
            secrets.setdefault('returned client secret %s...' % value[:4], value)
        secrets.update(self.extra_secrets)
        session_values = {}
        for aspx, session in sessions:
            session_values['session cookie %s...' % aspx[:6]] = aspx
            session_values['csrf token %s...' % session['csrf'][:4]] = session['csrf']
        for token in tokens:
            session_values['access token %s...' % token[:4]] = token
        for value in _session_file_values(cache_path or self.cache_path):
            session_values.setdefault('stored session value %s...' % value[:4], value)
        return secrets, session_values

    def scan(self, result, record=True, cache_path=None):
        """Scan one run: -vvv stdout/stderr, the log file, the recorded results (diffs included),
        the facts cache and the session file (those beside ``cache_path``, default the test's own:
        a run with a cache of its own is scanned with that one)."""
        cache_path = cache_path or self.cache_path
        creating = []
        for entry in result.results:
            for part, secret in _returned_secrets(entry.get('result')):
                calls = [op.get('call') for op in part.get('operations') or []]
                assert 'AddClient' in calls, 'client_secret returned by a task that did not create: %r' % entry['task']
                creating.append(secret)
                self.returned_secrets.add(secret)
        # A run killed in the middle of a loop printed the results of its finished items, but the
        # recorder only writes a loop's result once the loop ends: those printed results count too.
        for data in _printed_results(result.stdout):
            for part, secret in _returned_secrets(data):
                if 'AddClient' in [op.get('call') for op in part.get('operations') or [] if isinstance(op, dict)]:
                    creating.append(secret)
                    self.returned_secrets.add(secret)
        secrets, session_values = self.known_secrets(cache_path)
        # the documented return value, and its echo by the default callback, are the only places
        # a client secret may be
        results_copy = json.loads(json.dumps(result.results))
        for entry in results_copy:
            for part, secret in _returned_secrets(entry.get('result')):
                if secret in creating:
                    part['client_secret'] = '<documented return value>'
        allowed_echo = dict((s, len(re.findall(r'"client_secret":\s*"%s"' % re.escape(s), result.stdout))) for s in creating)
        log_text = _file_text(getattr(result, 'log_path', None))
        allowed_log = dict((s, len(re.findall(r'"client_secret":\s*"%s"' % re.escape(s), log_text))) for s in creating)
        sessions_text = _file_text(os.path.join(os.path.dirname(cache_path), 'sessions.json'))
        texts = {'stdout': result.stdout, 'stderr': result.stderr, 'ansible log': log_text,
                 'results': json.dumps(results_copy), 'facts cache': _HELPERS.cache_text(cache_path),
                 'simulator request log': json.dumps(self.sim.log())}
        findings = scan_for_secrets(texts, secrets, allowed={'stdout': allowed_echo, 'ansible log': allowed_log})
        findings += scan_for_secrets({'session file': sessions_text}, secrets)
        findings += scan_for_secrets(texts, session_values)
        self.scanned += 1
        self.secrets_checked.update(secrets.values())
        self.secrets_checked.update(session_values.values())
        if record:
            add_scan({'test': self.nodeid, 'texts': len([t for t in texts.values() if t]) + (1 if sessions_text else 0),
                      'secrets': len(secrets) + len(session_values), 'leaks': findings[:3]})
        if findings:
            raise SecretLeak('secrets leaked in run %s:\n  %s\n%s' % (len(self.runs), '\n  '.join(findings), result))

    # --- convergence and rows ---------------------------------------------------------------
    def converged(self, declared, allow_uri_duplicates=False, cache_path=None, context=''):
        """Asserts simulator == declared == the facts cache (``cache_path``, default the test's own);
        ``context`` leads the assertion message (a seed, a schedule)."""
        conv = check_converged(self.sim, cache_path or self.cache_path, declared)
        bad = conv.problems or conv.duplicate_clients or (conv.duplicate_uri_rows and not allow_uri_duplicates)
        assert not bad, '%snot converged: %s\nlast run:\n%s' % (context, conv.summary(), self.runs[-1] if self.runs else '')
        return conv

    def record(self, section, fault, where, injected, outcome, check, order=0):
        add_row({'section': section, 'fault': fault, 'where': where, 'injected': injected, 'outcome': outcome,
                 'check': check, 'test': self.nodeid, 'order': order})

    @contextlib.contextmanager
    def row(self, section, fault, where, injected=0, order=0):
        """Records one table row; ``check`` is 'FAILED: ...' when the block raises."""
        data = {'outcome': '', 'check': '', 'injected': injected}
        try:
            yield data
        except BaseException as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            data['check'] = 'FAILED: %s' % first[:200]
            raise
        finally:
            self.record(section, fault, where, data['injected'], data['outcome'] or '?', data['check'] or '?', order)


_PRINTED_RESULT = re.compile(r'^(?:ok|changed|failed|fatal): \[[^\]]+\](?:: FAILED!)?(?: (?:=> )?\(item=.*\))? => \{$')


def _printed_results(stdout):
    """The result documents the default callback printed at -v or more (one JSON object per
    task or loop item, indented, closed by a "}" alone on its line)."""
    found, lines = [], stdout.splitlines()
    for index, line in enumerate(lines):
        if not _PRINTED_RESULT.match(line):
            continue
        for end in range(index + 1, len(lines)):
            if lines[end] == '}':
                try:
                    found.append(json.loads('{' + '\n'.join(lines[index + 1:end + 1])))
                except ValueError:
                    pass
                break
    return found


def _returned_secrets(data):
    """[(result part, client secret)] of one task result: the task's own client_secret, each loop
    item's (``results``) and each item's of a creatio_oauth_clients task (``clients``)."""
    if not isinstance(data, dict):
        return []
    found = []
    for part in [data] + list(data.get('results') or []) + list(data.get('clients') or []):
        secret = part.get('client_secret') if isinstance(part, dict) else None
        if secret and secret != 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER':
            found.append((part, secret))
    return found


def _children():
    """{parent pid: [child pid, ...]} from /proc."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(')', 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def kill_tree(pid):
    """Freeze the tree under ``pid`` with SIGSTOP (so nothing forks or finishes meanwhile), then
    SIGKILL all of it at once: what a crash of the controller looks like to Creatio."""
    frozen = []
    todo = [pid]
    for _round in range(20):
        for target in todo:
            try:
                os.kill(target, signal.SIGSTOP)
                frozen.append(target)
            except ProcessLookupError:
                pass
        tree = _children()
        found = []
        stack = [pid]
        while stack:
            for child in tree.get(stack.pop(), []):
                found.append(child)
                stack.append(child)
        todo = [p for p in found if p not in frozen]
        if not todo:
            break
    for target in frozen:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


def read_results(path):
    """The recorder's JSON lines; a killed run may have left a torn last line (skipped)."""
    results = []
    for line in _file_text(path).splitlines():
        if line.strip():
            try:
                results.append(json.loads(line))
            except ValueError:
                pass
    return results


class Spawned(object):
    """An ansible-playbook process started by Reliability.spawn."""

    def __init__(self, owner, proc, run_dir, args):
        self.owner = owner
        self.proc = proc
        self.run_dir = run_dir
        self.args = args
        self.started = time.monotonic()

    def kill(self):
        """SIGKILL ansible-playbook and every process under it (its workers call setsid, so the
        process group alone would leave them and the running module alive)."""
        kill_tree(self.proc.pid)
        self.proc.wait()

    def wait(self, timeout=300):
        self.proc.wait(timeout)
        return self.result()

    def result(self):
        """A harness PlaybookResult of the process (its output so far when it was killed)."""
        spawn = self.owner._spawn  # pylint: disable=protected-access
        text = dict((name, _file_text(str(self.run_dir / name))) for name in ('stdout', 'stderr'))
        result = spawn['result_class'](self.proc.returncode, text['stdout'], text['stderr'],
                                       read_results(str(self.run_dir / 'results.jsonl')), self.args,
                                       str(self.run_dir / 'playbook.yml'), None)
        result.log_path = str(self.run_dir / 'ansible.log')
        return result


def _session_file_values(cache_path):
    """Cookie values and tokens held by sessions.json (beside the cache)."""
    path = os.path.join(os.path.dirname(cache_path), 'sessions.json')
    try:
        document = json.loads(_file_text(path) or '{}')
    except ValueError:
        return []
    values = []
    for entry in (document.get('sessions') or {}).values():
        if not isinstance(entry, dict):
            continue
        # every cookie but UserName (it holds the user name, which is no secret)
        values.extend(v for k, v in (entry.get('cookies') or {}).items()
                      if k != 'UserName' and isinstance(v, str) and len(v) >= 8)
        if isinstance(entry.get('token'), str):
            values.append(entry['token'])
    return values


# ---------------------------------------------------------------- runs released together

# The first task of a playbook whose runs must start their real work at the same moment: each run
# says it is ready, then waits (at most 60 s) until the test releases all of them (``release``),
# then sleeps its own seeded offset.
BARRIER_TASK = """
    - name: Barrier
      ansible.builtin.shell: |
        touch "{{ barrier_dir }}/ready-{{ barrier_me }}"
        for _ in $(seq 6000); do [ -e "{{ barrier_dir }}/go" ] && break; sleep 0.01; done
        sleep {{ barrier_offset | default(0) }}
      changed_when: false
"""


def release(barrier_dir, count, spawned=(), timeout=120):
    """Wait until ``count`` runs wait at the barrier in ``barrier_dir`` (fails early when one of
    the ``spawned`` runs ended first), then release them all at once."""
    deadline = time.monotonic() + timeout
    while len(glob.glob(os.path.join(str(barrier_dir), 'ready-*'))) < count:
        ended = [s for s in spawned if s.proc.poll() is not None]
        assert not ended, 'a run ended before the barrier:\n%s' % ended[0].result()
        assert time.monotonic() < deadline, 'the runs did not reach the barrier in %d s' % timeout
        time.sleep(0.02)
    with open(os.path.join(str(barrier_dir), 'go'), 'w'):
        pass


class SecretWitness(object):
    """The simulator forgets the secret of a deleted client. A witness keeps every client secret
    the site held right before each DeleteClient (through the public ``trigger`` hook), so that a
    test can look for the secrets of deleted clients too."""

    def __init__(self, sim, deletes=0):
        self.sim = sim
        self.seen = {}
        self.arm(deletes)

    def arm(self, deletes):
        """Watch ``deletes`` more DeleteClient requests (triggers that did not fire stay armed and
        keep recording for this witness: use one witness per simulator)."""
        for _number in range(deletes):
            self.sim.trigger('DeleteClient', self._snapshot, label='secret witness')

    def forget(self):
        """Start over (a new trial on a reset site)."""
        self.seen = {}

    def _snapshot(self, sim):
        self.seen.update(sim.issued_secrets()['client_secrets'])

    def all(self):
        """{client id: secret} of every client the site had, deleted or not."""
        self.seen.update(self.sim.issued_secrets()['client_secrets'])
        return dict(self.seen)

    def deleted(self):
        live = self.sim.issued_secrets()['client_secrets']
        return dict((cid, secret) for cid, secret in self.all().items() if cid not in live)


# ---------------------------------------------------------------- results of a run

def failure_of(result):
    """(task, msg, error type) of the first failed task, or None."""
    for entry in result.results:
        if entry['status'] == 'failed' and not entry.get('ignore_errors'):
            data = entry['result']
            return entry['task'], data.get('msg') or '', (data.get('error') or {}).get('type')
    return None


def short(text, size=90):
    text = ' '.join(str(text).split())
    return text if len(text) <= size else text[:size - 3] + '...'
