# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Four ansible-playbook runs at once against one site and one facts cache, with overlapping
integrations (each name declared by two or more runs, in different orders; two runs declare theirs
with one creatio_oauth_clients task, two with a loop of creatio_oauth_client) and one integration
whose redirect URIs every run adds to. No cache update may be lost and no integration may be created
twice by two runs racing on one name."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import random
import shutil

import reliability_lib as lib  # pylint: disable=import-error

ROUNDS = 3 if lib.FULL else 1
PROCESSES = 4
NAMES = ['Conc %02d' % i for i in range(8)]
SHARED = "Conc shared's code"
BASE_URL = 'https://shared.example.com/base'

CREATE_MANY = """
    - name: Create the client credentials integrations
      creatio.oauth.creatio_oauth_client:
        name: "{{ item }}"
        grant_type: client_credentials
        application_url: https://conc.example.com
        system_user_id: %s
      loop: "{{ names }}"
      no_log: true
""" % lib.POWERBI_USER_ID

# The same, in one creatio_oauth_clients task: its lookups come from one OData read made before
# the first item is applied, while the other runs create the same names.
CREATE_MANY_BATCH = """
    - name: Create the client credentials integrations
      creatio.oauth.creatio_oauth_clients:
        clients: "{{ batch }}"
      no_log: true
"""

CREATE_SHARED = """
    - name: Create the shared integration
      creatio.oauth.creatio_oauth_client:
        name: "%s"
        grant_type: authorization_code
        application_url: https://shared.example.com
        redirect_urls:
          - %s
        purge_redirect_urls: false
      no_log: true
""" % (SHARED, BASE_URL)

ADD_URL = """
    - name: Add this run's redirect URI to the shared integration
      creatio.oauth.creatio_redirect_url:
        client_name: "%s"
        redirect_urls:
          - "{{ own_url }}"
""" % SHARED

HEADER = """
- name: Concurrent run
  hosts: localhost
  gather_facts: false
  tasks:
"""


def _plan(rng):
    """Per process: its names (5 of 8, shuffled) and whether the shared integration comes first.
    Every name is declared by at least two processes."""
    while True:
        plans = []
        for index in range(PROCESSES):
            names = rng.sample(NAMES, 5)
            plans.append({'names': names, 'shared_first': index % 2 == 0, 'batch': index in (1, 2),
                          'own_url': 'https://shared.example.com/p%d' % index})
        counts = dict((n, sum(n in p['names'] for p in plans)) for n in NAMES)
        if min(counts.values()) >= 2:
            return plans


def _playbook(plan):
    many = CREATE_MANY_BATCH if plan['batch'] else CREATE_MANY
    body = (CREATE_SHARED + many) if plan['shared_first'] else (many + CREATE_SHARED)
    return HEADER + body + ADD_URL


def _batch(names):
    return [{'name': n, 'grant_type': 'client_credentials', 'application_url': 'https://conc.example.com',
             'system_user_id': lib.POWERBI_USER_ID} for n in names]


def test_four_runs_at_once_lose_nothing_and_create_nothing_twice(rel):
    rng = random.Random(7)
    for round_number in range(ROUNDS):
        rel.sim.reset()
        cache_dir = os.path.dirname(rel.cache_path)
        if os.path.isdir(cache_dir):
            shutil.rmtree(cache_dir)
        plans = _plan(rng)
        names = sorted(set(n for p in plans for n in p['names']))
        declared = dict((n, {'grant_type': 'client_credentials', 'application_url': 'https://conc.example.com',
                             'system_user_id': lib.POWERBI_USER_ID, 'redirect_urls': []}) for n in names)
        declared[SHARED] = {'grant_type': 'authorization_code', 'application_url': 'https://shared.example.com',
                            'redirect_urls': [BASE_URL] + [p['own_url'] for p in plans]}
        label = '%d ansible-playbook runs at once (round %d/%d)' % (PROCESSES, round_number + 1, ROUNDS)
        where = 'one site + one cache file; %d names declared %d times' % (
            len(names) + 1, sum(len(p['names']) + 1 for p in plans))
        with rel.row('concurrency', label, where, injected=PROCESSES, order=round_number) as row:
            spawned = [rel.spawn(_playbook(plan), 'round%d-run%d' % (round_number, index),
                                 extra_vars={'names': plan['names'], 'own_url': plan['own_url'], 'batch': _batch(plan['names'])})
                       for index, plan in enumerate(plans)]
            results = [s.wait(timeout=600) for s in spawned]
            for result in results:
                rel.scan(result)
                assert result.rc == 0, result
            log = rel.sim.log()
            adds = len([e for e in log if e['endpoint'] == 'AddClient'])
            url_adds = len([e for e in log if e['endpoint'] == 'AddRedirectUrls'])
            row['outcome'] = 'all %d runs ok; %d AddClient for %d names, %d AddRedirectUrls' % (
                PROCESSES, adds, len(names) + 1, url_adds)
            # each integration created exactly once; the shared one's URIs added once each (its first
            # one by the run that created it)
            assert adds == len(names) + 1, log
            assert url_adds == PROCESSES + 1, log
            rel.converged(declared)
            # the cache kept every update: every redirect URI of the shared integration with its id
            record = lib.cache_clients(rel.cache_path, rel.sim)[SHARED]
            ids = dict((r['url'], r['id']) for r in record['redirect_urls'])
            assert all(ids[p['own_url']] for p in plans), record
            again = rel.run(HEADER + CREATE_MANY + CREATE_SHARED, extra_vars={'names': names})
            assert again.rc == 0 and not again.changed_tasks(), again
            assert not [e for e in rel.sim.log()[len(log):] if e['kind'] == 'write'], 'a converged re-run wrote'
            rel.converged(declared)
            row['check'] = 'ok: %d integrations, each once; %d redirect URIs with ids; cache == simulator == declared; ' \
                           're-run writes nothing' % (len(lib.sim_clients(rel.sim)), len(ids))
