# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Killed runs: the 20-integration bootstrap (playbooks/bootstrap.yml) killed with SIGKILL at seeded
random moments; after each kill a normal run must converge, the cache must parse, nothing may be
duplicated, and every secret file that was written must be whole.

The seed is fixed (CREATIO_RELIABILITY_SEED overrides it), so a failure is reproducible: the table
row names the kill moment.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import random
import shutil
import time

import reliability_lib as lib  # pylint: disable=import-error

SEED = int(os.environ.get('CREATIO_RELIABILITY_SEED', '20240607'))
KILLS = 20 if lib.FULL else 5
BOOTSTRAP = os.path.join(lib.ROOT, 'playbooks', 'bootstrap.yml')
PRESET_URLS = {'powerbi': 'https://app.powerbi.com', 'outlook_addin': 'https://outlook.office.com'}


def integrations():
    """20 integrations over the presets; one name carries a quote."""
    items = []
    for i in range(6):
        items.append({'name': 'Kill PowerBI %02d' % i, 'preset': 'powerbi', 'system_user_id': lib.POWERBI_USER_ID})
    for i in range(5):
        items.append({'name': 'Kill webhook %02d' % i, 'preset': 'webhooks', 'application_url': 'https://hooks%02d.example.com' % i,
                      'system_user_id': lib.WEBHOOK_USER_ID})
    for i in range(5):
        items.append({'name': 'Kill Outlook %02d' % i, 'preset': 'outlook_addin',
                      'redirect_urls': ['https://addin.example.com/%02d/callback' % i, 'https://addin.example.com/%02d/silent' % i]})
    for i in range(4):
        name = "Kill O'Custom %02d" % i
        if i % 2:
            items.append({'name': name, 'preset': 'custom', 'grant_type': 'client_credentials',
                          'application_url': 'https://custom%02d.example.com' % i, 'system_user_id': lib.WEBHOOK_USER_ID})
        else:
            items.append({'name': name, 'preset': 'custom', 'grant_type': 'authorization_code',
                          'application_url': 'https://custom%02d.example.com' % i,
                          'redirect_urls': ['https://custom%02d.example.com/cb' % i]})
    return items


def declared_of(items):
    grants = {'powerbi': 'client_credentials', 'webhooks': 'client_credentials', 'outlook_addin': 'authorization_code'}
    declared = {}
    for item in items:
        grant = item.get('grant_type') or grants[item['preset']]
        declared[item['name']] = {
            'grant_type': grant,
            'application_url': item.get('application_url') or PRESET_URLS[item['preset']],
            'system_user_id': item.get('system_user_id'),
            'redirect_urls': item.get('redirect_urls') or [],
        }
    return declared


def _playbook_and_vars(items, secrets_dir):
    assert os.path.exists(BOOTSTRAP), 'playbooks/bootstrap.yml is missing'
    with open(BOOTSTRAP) as handle:
        text = handle.read()
    return 'bootstrap.yml', text, {'creatio_integrations': items, 'creatio_integrations_secrets_dir': str(secrets_dir)}


def _fresh_site(rel, secrets_dir):
    rel.sim.reset()
    cache_dir = os.path.dirname(rel.cache_path)
    if os.path.isdir(cache_dir):
        shutil.rmtree(cache_dir)
    if os.path.isdir(str(secrets_dir)):
        shutil.rmtree(str(secrets_dir))


def _check_cache_parses(cache_path):
    if not lib.cache_exists(cache_path):
        return 'no cache yet'
    document = lib.read_cache(cache_path)  # raises on a torn file
    assert document['schema_version'] == 1, document
    return 'cache parses'


def _check_secret_files(rel, secrets_dir):
    """Every secret file is whole JSON and names a client id the simulator has; no partial file of a
    killed write is left once the recovery run has settled it."""
    if not os.path.isdir(str(secrets_dir)):
        return 0
    ids = dict((c['name'], c['clientId']) for clients in lib.sim_clients(rel.sim).values() for c in clients)
    count = 0
    names = os.listdir(str(secrets_dir))
    assert [n for n in names if n.endswith('.partial')] == [], names
    for name in names:
        with open(os.path.join(str(secrets_dir), name)) as handle:
            document = json.load(handle)
        assert document['client_id'] == ids.get(document['name']), (name, document['name'])
        assert oct(os.stat(os.path.join(str(secrets_dir), name)).st_mode & 0o777) == '0o600'
        count += 1
    return count


def test_killed_bootstrap_runs_converge(rel, tmp_path):
    rng = random.Random(SEED)
    items = integrations()
    declared = declared_of(items)
    secrets_dir = tmp_path / 'secrets'
    which, text, extra = _playbook_and_vars(items, secrets_dir)
    playbook = str(tmp_path / 'bootstrap-under-test.yml')
    with open(playbook, 'w') as handle:
        handle.write(text)

    # one uninterrupted run: it must converge, and its requests set the window of the kills
    calibration = rel.run(playbook, extra_vars=extra)
    assert calibration.rc == 0, calibration
    rel.converged(declared)
    total = len(rel.sim.log())

    for number in range(KILLS):
        # Every fifth kill lands while Creatio is answering an AddClient it has already carried out
        # (the module dies before it can record the integration or write its secret file): the
        # narrowest and worst moment. Every fourth of the others hits a run over the state the
        # previous recovery left; the rest start from an empty site.
        in_flight = number % 5 == 1
        fresh = in_flight or number % 4 != 3
        if fresh:
            _fresh_site(rel, secrets_dir)
        rel.sim.clear_log()
        if in_flight:
            target = rng.randint(1, len(items))
            faults = [{'endpoint': 'AddClient', 'status': None, 'count': target - 1}] if target > 1 else []
            faults.append({'endpoint': 'AddClient', 'status': None, 'delay': 2.0, 'phase': 'after', 'count': 1})
            rel.sim.configure(faults=faults)
            label = 'SIGKILL %d/%d while AddClient %d/%d is answered (fresh site)' % (number + 1, KILLS, target, len(items))
        else:
            # After a seeded random number of simulator requests (so a slow machine moves the kill
            # with the run) plus a seeded random pause of up to 20 ms (the role sends its requests
            # from one task, a few milliseconds apart); 0 requests = while ansible-playbook starts.
            after = rng.randint(0, total - 1)
            if not fresh:
                after = after % 2  # a run over converged state: one OData read for all items, then the writes
            pause = rng.uniform(0.0, 0.02) if after else rng.uniform(0.2, 1.5)
            label = 'SIGKILL %d/%d after request %d/%d + %.2f s (%s)' % (
                number + 1, KILLS, after, total, pause, 'fresh site' if fresh else 'after a recovery')
        # duplicate URI rows a previous kill left (documented, see below) stay on a site that is not reset
        inherited = {} if fresh else lib.check_converged(rel.sim, rel.cache_path, declared).duplicate_uri_rows
        with rel.row('kills', label, which, injected=1, order=number) as row:
            spawned = rel.spawn(text, 'kill-%02d' % number, extra_vars=extra)
            deadline = time.monotonic() + 300
            if in_flight:
                while rel.sim.state()['config']['faults'][-1]['count'] and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.2)  # the integration is created; its answer is 1.8 s away
            else:
                while len(rel.sim.log()) < after and spawned.proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(pause)
            finished_first = spawned.proc.poll() is not None
            spawned.kill()
            rel.sim.wait_settled()
            rel.sim.configure(faults=[])
            killed = spawned.result()
            rel.scan(killed)
            log = rel.sim.log()
            created = len(lib.sim_clients(rel.sim)) if fresh else 0
            last = log[-1]['endpoint'] if log else 'nothing sent yet'
            row['outcome'] = '%s; %d created before the kill, last request %s; %s' % (
                'run had finished' if finished_first else 'killed', created, last, _check_cache_parses(rel.cache_path))
            if in_flight:
                cached = lib.cache_clients(rel.cache_path, rel.sim)
                assert len(cached) == target - 1 and created == target, (len(cached), created, target)
            recovery = rel.run(playbook, extra_vars=extra)
            assert recovery.rc == 0, recovery
            # The one documented exception (failure_behaviour.rst): a kill that cuts off the answer
            # of an AddRedirectUrls Creatio carried out leaves its URIs unrecorded (no API lists
            # them), so the recovery adds them again: a second row per URI of that one integration.
            cut_off_urls = not finished_first and last == 'AddRedirectUrls'
            conv = rel.converged(declared, allow_uri_duplicates=cut_off_urls or bool(inherited))
            new_rows = dict((name, rows) for name, rows in conv.duplicate_uri_rows.items() if inherited.get(name) != rows)
            assert len(new_rows) <= (1 if cut_off_urls else 0), conv.summary()
            files = _check_secret_files(rel, secrets_dir)
            if in_flight:
                # the one whose answer died with the run was adopted, without its secret
                assert files == len(items) - 1, files
            row['outcome'] += '; recovery run ok'
            row['check'] = 'ok: %d integrations, each once; cache == simulator == declared; %d whole secret files%s' % (
                len(lib.sim_clients(rel.sim)), files, '' if conv.ok else '; ' + conv.summary(allow_uri_duplicates=True))
