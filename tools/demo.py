#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: bootstrap four integrations on the local simulator with the collection's playbook.

Starts the Creatio simulator on 127.0.0.1 (a free port), then runs, exactly as a user would,

    ansible-playbook creatio.oauth.bootstrap -e @examples/integrations.yml

twice, with the connection in CREATIO_* environment variables and the client secrets going to a
fresh 0700 folder. The first run must create the four integrations (Power BI Connector, a webhook
service, Clio, the Creatio.ai add-in for Outlook) with the grant types of their presets and write
one 0600 secrets file each; the second must change nothing (changed=0, no write request). The
output is shown as it comes; no secret is ever printed. Exits 1 if anything is off.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import testbed  # noqa: E402  pylint: disable=wrong-import-position
SIMULATOR_DIR = os.path.join(ROOT, 'tests', 'simulator')
if SIMULATOR_DIR not in sys.path:
    sys.path.insert(0, SIMULATOR_DIR)
import creatio_simulator  # noqa: E402  pylint: disable=import-error,wrong-import-position
EXAMPLE = os.path.join(ROOT, 'examples', 'integrations.yml')
BIN_DIR = os.path.dirname(os.path.abspath(sys.executable))
# the simulator's seeded administrator
ADMIN_USER, ADMIN_PASSWORD = next((user['name'], user['password']) for user in creatio_simulator.USERS
                                  if user['id'] == creatio_simulator.SUPERVISOR_ID)

COLOR = sys.stdout.isatty() and not os.environ.get('NO_COLOR')
# ansible-core 2.19 imports DSA from cryptography for its ssh-agent support, on every command; cryptography
# (from 46 on) warns that DSA is deprecated, and ansible-playbook printed that CryptographyDeprecationWarning
# twice per run. It is about the tools venv, not the collection, so the demo's commands do not show it (a
# filter by message and module: nothing to import at start-up, nothing else hidden).
QUIET_WARNINGS = 'ignore:DSA is deprecated::ansible._internal._ssh._ssh_agent'


def python_warnings(current: str | None) -> str:
    """PYTHONWARNINGS for the demo's commands: the caller's filters, and QUIET_WARNINGS."""
    return ','.join(f for f in ((current or '').strip(), QUIET_WARNINGS) if f)


def bold(text: str) -> str:
    return '\x1b[1m%s\x1b[0m' % text if COLOR else text


def banner(text: str) -> None:
    print('\n' + bold('=' * 100), flush=True)
    print(bold('== ' + text), flush=True)
    print(bold('=' * 100), flush=True)


def counts_of(entries: list) -> dict:
    counts = {'login': 0, 'token': 0, 'read': 0, 'write': 0}
    for entry in entries:
        if entry['kind'] in counts:
            counts[entry['kind']] += 1
    return counts


def run_bootstrap(env: dict, secrets_dir: str) -> tuple[int, str]:
    """One `ansible-playbook creatio.oauth.bootstrap` run, shown live; returns (rc, output)."""
    cmd = [os.path.join(BIN_DIR, 'ansible-playbook'), 'creatio.oauth.bootstrap',
           '-e', '@' + os.path.relpath(EXAMPLE, ROOT), '-e', 'creatio_integrations_secrets_dir=' + secrets_dir]
    print('$ ansible-playbook ' + ' '.join(cmd[1:]), flush=True)
    lines = []
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        for line in proc.stdout:
            lines.append(line)
            sys.stdout.write(line)
            sys.stdout.flush()
        rc = proc.wait()
    return rc, ''.join(lines)


def main() -> int:  # pylint: disable=too-many-locals,too-many-statements,too-many-branches
    with open(EXAMPLE, encoding='utf-8') as handle:
        declared = yaml.safe_load(handle)['creatio_integrations']
    presets = {'powerbi': 'client_credentials', 'webhooks': 'client_credentials', 'clio': 'client_credentials',
               'outlook_addin': 'authorization_code'}

    work = tempfile.mkdtemp(prefix='creatio-demo-')
    secrets_dir = tempfile.mkdtemp(prefix='creatio-demo-secrets-')  # mkdtemp: mode 0700
    sim = creatio_simulator.Simulator(host='127.0.0.1', port=0)
    sim.start()
    problems = []
    runs = []
    try:
        banner('Creatio simulator')
        print('Creatio site:      %s' % sim.url)
        print('Identity service:  %s' % sim.identity_url)
        print('Admin login:       %s (password in CREATIO_PASSWORD, not shown)' % ADMIN_USER)
        print('Secrets folder:    %s (mode 0700, empty)' % secrets_dir)
        print('Declared:          %s' % os.path.relpath(EXAMPLE, ROOT))
        for item in declared:
            print('                     - %-26s preset %s' % (item['name'], item['preset']))
        home = os.path.join(work, 'home')
        os.makedirs(os.path.join(home, '.ansible', 'tmp'))
        config = os.path.join(work, 'ansible.cfg')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write('[defaults]\n')
        collections = testbed.linked_collection(os.path.join(work, 'collections'))
        sys.path.insert(0, collections)
        # The file name the collection gives a secret in a secrets folder, from the collection itself.
        from ansible_collections.creatio.oauth.plugins.module_utils._rules import secret_file_name  # pylint: disable=import-outside-toplevel
        env = {k: v for k, v in os.environ.items() if not (k.startswith('ANSIBLE_') or k.startswith('CREATIO_'))}
        env.update({
            'PATH': BIN_DIR + os.pathsep + os.environ.get('PATH', ''),
            'ANSIBLE_CONFIG': config,
            'ANSIBLE_HOME': os.path.join(home, '.ansible'),
            'ANSIBLE_LOCAL_TEMP': os.path.join(home, '.ansible', 'tmp'),
            'ANSIBLE_COLLECTIONS_PATH': collections,
            'ANSIBLE_LOCALHOST_WARNING': 'false',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'ANSIBLE_FORCE_COLOR': '1' if COLOR else '0',
            'ANSIBLE_NOCOLOR': '0' if COLOR else '1',
            'CREATIO_URL': sim.url,
            'CREATIO_USERNAME': ADMIN_USER,
            'CREATIO_PASSWORD': ADMIN_PASSWORD,
            'CREATIO_IDENTITY_URL': sim.identity_url,
            'CREATIO_CACHE_PATH': os.path.join(work, 'cache', 'facts.json'),
            'PYTHONDONTWRITEBYTECODE': '1',
            'PYTHONWARNINGS': python_warnings(os.environ.get('PYTHONWARNINGS')),
        })

        for number, title in ((1, 'first run: creates the four integrations'), (2, 'second run: nothing to do')):
            banner('Run %d, %s' % (number, title))
            mark = len(sim.log())
            started = time.monotonic()
            rc, output = run_bootstrap(env, secrets_dir)
            took = time.monotonic() - started
            counts = counts_of(sim.log()[mark:])
            recap = testbed.parse_recap(output).get('localhost', {})
            runs.append({'rc': rc, 'recap': recap, 'counts': counts, 'took': took, 'output': output})
            if rc != 0 or recap.get('failed', 1) != 0:
                problems.append('run %d failed (rc=%s, recap %s)' % (number, rc, recap))

        first, second = runs
        clients = [c for c in sim.state()['clients'] if not c.get('seeded')]
        by_name = {c['name']: c for c in clients}
        if sorted(by_name) != sorted(i['name'] for i in declared) or len(clients) != len(declared):
            problems.append('the simulator has %s, expected exactly %s'
                            % (sorted(c['name'] for c in clients), sorted(i['name'] for i in declared)))
        for item in declared:
            client = by_name.get(item['name'])
            if client and client['grantType'] != presets[item['preset']]:
                problems.append('%s has grant type %s, expected %s'
                                % (item['name'], client['grantType'], presets[item['preset']]))
        if first['counts']['write'] == 0 or first['recap'].get('changed', 0) == 0:
            problems.append('the first run wrote nothing')
        if second['recap'].get('changed') != 0:
            problems.append('the second run reported changed=%s, expected 0' % second['recap'].get('changed'))
        if second['counts']['write'] != 0:
            problems.append('the second run sent %d write request(s), expected 0' % second['counts']['write'])

        files = sorted(os.listdir(secrets_dir))
        if len(files) != len(declared):
            problems.append('%d secrets file(s) in %s, expected %d' % (len(files), secrets_dir, len(declared)))
        secrets = []
        for name in files:
            path = os.path.join(secrets_dir, name)
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if mode != 0o600:
                problems.append('%s has mode %o, expected 0600' % (path, mode))
            with open(path, encoding='utf-8') as handle:
                document = json.load(handle)
            secrets.append(document.get('client_secret') or '')
            client = by_name.get(document.get('name'))
            if not client or client['clientId'] != document.get('client_id'):
                problems.append('%s does not match an integration of the simulator' % path)
        for run_number, run in enumerate(runs, 1):
            if any(s and s in run['output'] for s in secrets):
                problems.append('a client secret appeared in the output of run %d' % run_number)

        banner('Report')
        print('Integrations on %s:' % sim.url)
        print('  %-26s %-14s %-19s %-34s %s' % ('name', 'preset', 'grant type', 'client id', 'secrets file'))
        for item in declared:
            client = by_name.get(item['name'], {})
            secret_file = secret_file_name(item['name'])
            print('  %-26s %-14s %-19s %-34s %s' % (item['name'], item['preset'], client.get('grantType', '-'),
                                                    client.get('clientId', '-'), secret_file if secret_file in files else '-'))
        print('Client secrets: %s (folder 0700, files 0600; never printed)' % secrets_dir)
        print('Requests the simulator received:')
        print('  %-6s %7s %7s %7s %7s %9s %9s' % ('run', 'logins', 'tokens', 'reads', 'writes', 'changed', 'seconds'))
        for number, run in enumerate(runs, 1):
            counts = run['counts']
            print('  %-6s %7d %7d %7d %7d %9s %9.1f' % (number, counts['login'], counts['token'], counts['read'],
                                                        counts['write'], run['recap'].get('changed', '?'), run['took']))
        print('  (tokens: the creatio_integrations_verify check of each new client credentials integration)')
    finally:
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)

    if problems:
        print('\n' + bold('DEMO FAILED:'))
        for problem in problems:
            print('  - ' + problem)
        return 1
    print('\n' + bold('Demo OK: the first run created the four integrations, the second changed nothing (0 writes).'))
    print('The secrets folder is left for you to look at; delete it when done: rm -r %s' % secrets_dir)
    return 0


if __name__ == '__main__':
    sys.exit(main())
