# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX-style repeated jobs of authorization code integrations (issue 14, "Done when").

Every job starts with an empty facts cache (its own ``CREATIO_CACHE_PATH``, so its own session file
too), as an AWX container does. The first job converges; every later job must add no redirect URI
row: the simulator's rows per integration are exactly the declared ones, with no duplicate, and the
later jobs send no write at all. Run through the role (``creatio.oauth.integrations``) and through
``creatio_oauth_client``, with the site's redirect-URI entity readable (the simulator's default: the
collection reads each integration's list with its ids) and hidden (``redirect_entity: hidden``: the
list cannot be read, so the declared URIs are *unconfirmed*: reported in the result and a warning,
never added).

Then the documented explicit step (``add_unconfirmed_redirect_urls``, see the module's docs): an
integration made by hand with URI A, declared with [A, B]. Hidden entity: a default job reports A
and B unconfirmed and writes nothing; the explicit job adds the declared URIs once (A and B, which
leaves a second row for A: the documented cost of that step) and records their ids, so a job with
that cache writes nothing, and a later job with an empty cache reports them unconfirmed again and
writes nothing. Readable entity: no explicit step is needed, only B is added.

The hidden cases here are sites with no evidence at all (``authorize_endpoint: off`` as well); where the
identity service's authorization endpoint answers, see test_playbook_redirect_evidence.py and the unit tests of test_redirect_evidence.py (issue 21).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from helpers import (  # pylint: disable=import-error
    DirectSession, cache_clients, cache_urls, endpoints, play, server_clients, server_urls, warnings_of, writes)

TWO = 'AWX two'
THREE = "AWX three's"
DECLARED = {
    TWO: ['https://two.example.com/callback', 'https://two.example.com/silent'],
    THREE: ['https://three.example.com/cb', 'com.example.three:/oauth', 'https://three.example.com/cb2'],
}
JOBS = 5
# an integration made by hand with URI A (below), declared with [A, B]
HAND = 'Made by hand'
HAND_APP = 'https://hand.example.com'
URI_A = 'https://hand.example.com/a'
URI_B = 'https://hand.example.com/b'
APP_URLS = {TWO: 'https://two.example.com', THREE: 'https://three.example.com', HAND: HAND_APP}

MODULE_PLAYBOOK = play("""
    - name: Authorization code integrations
      creatio.oauth.creatio_oauth_client:
        name: "{{ item.name }}"
        grant_type: authorization_code
        application_url: "{{ item.application_url }}"
        redirect_urls: "{{ item.redirect_urls }}"
        add_unconfirmed_redirect_urls: "{{ add_unconfirmed | default(false) }}"
        client_secret_file: "{{ secrets_dir }}/{{ item.application_url | urlsplit('hostname') }}.json"
      loop: "{{ integrations }}"
      loop_control:
        label: "{{ item.name }}"
""", name='AWX job (module)')

ROLE_PLAYBOOK = """
- name: AWX job (role)
  hosts: localhost
  gather_facts: false
  roles:
    - role: creatio.oauth.integrations
"""
ROLE_APPLY = 'creatio.oauth.integrations : Apply the integrations'
ROLE_RECORD = 'creatio.oauth.integrations : Record the result of the run'
ROLE_SUMMARY = 'creatio.oauth.integrations : Summary'
MODULE_TASK = 'Authorization code integrations'

BATCH_PLAYBOOK = play("""
    - name: One batch
      creatio.oauth.creatio_oauth_clients:
        clients: "{{ batch }}"
""", name='AWX job (batch)')


def _integrations(declared):
    return [{'name': name, 'application_url': APP_URLS[name], 'redirect_urls': urls} for name, urls in declared.items()]


def _role_items(declared):
    return [{'name': name, 'preset': 'custom', 'grant_type': 'authorization_code', 'application_url': APP_URLS[name],
             'redirect_urls': urls} for name, urls in declared.items()]


class Jobs(object):
    """One AWX job per ``run``: a fresh folder with an empty facts cache (and so no session file)."""

    def __init__(self, sim, run_playbook, tmp_path, interface):
        self.sim = sim
        self.run_playbook = run_playbook
        self.tmp_path = tmp_path
        self.interface = interface
        self.number = 0

    def fresh_cache(self):
        self.number += 1
        folder = self.tmp_path / ('job-%02d' % self.number)
        folder.mkdir()
        return str(folder / 'cache' / 'facts.json'), str(folder / 'secrets')

    def run(self, declared, cache_path=None, add_unconfirmed=None):
        """(result, log of this job, cache path); a new empty cache unless ``cache_path`` is given."""
        if cache_path is None:
            cache_path, secrets_dir = self.fresh_cache()
        else:
            secrets_dir = str(self.tmp_path / ('job-secrets-%02d' % self.number))
        os.makedirs(secrets_dir, mode=0o700, exist_ok=True)
        mark = len(self.sim.log())
        if self.interface == 'role':
            extra = {'creatio_integrations': _role_items(declared), 'creatio_integrations_secrets_dir': secrets_dir}
            result = self.run_playbook(ROLE_PLAYBOOK, extra_vars=extra, env={'CREATIO_CACHE_PATH': cache_path})
        elif self.interface == 'batch':
            batch = _role_items(declared)
            for item in batch:
                item.pop('preset')
                if add_unconfirmed is not None:
                    item['add_unconfirmed_redirect_urls'] = add_unconfirmed
            result = self.run_playbook(BATCH_PLAYBOOK, extra_vars={'batch': batch}, env={'CREATIO_CACHE_PATH': cache_path})
        else:
            extra = {'integrations': _integrations(declared), 'secrets_dir': secrets_dir}
            if add_unconfirmed is not None:
                extra['add_unconfirmed'] = add_unconfirmed
            result = self.run_playbook(MODULE_PLAYBOOK, extra_vars=extra, env={'CREATIO_CACHE_PATH': cache_path})
        return result, self.sim.log()[mark:], cache_path


def rows(sim):
    """{name: sorted list of its redirect URI rows' URLs} (a list, so a duplicate row shows)."""
    return dict((name, sorted(row['redirectUrl'] for client in clients for row in client['redirectUrls']))
                for name, clients in server_clients(sim).items() if not any(c.get('seeded') for c in clients))


def expected_rows(declared):
    return dict((name, sorted(urls)) for name, urls in declared.items())


def assert_site_is(sim, declared):
    clients = server_clients(sim)
    for name in declared:
        assert len(clients.get(name, [])) == 1, 'expected one integration %r: %r' % (name, clients.get(name))
    assert rows(sim) == expected_rows(declared), 'redirect URI rows %r, declared %r' % (rows(sim), declared)


def per_integration(result, interface):
    """{name: (status, module result or None, warnings)} of one job."""
    if interface == 'role':
        apply = result.task(ROLE_APPLY)
        assert len(apply) == 1, result
        warnings = warnings_of(apply[0]['result'])
        published = result.task_result(ROLE_RECORD)['ansible_facts']['creatio_integrations_result']
        return dict((entry['name'], (entry['action'], entry, [w for w in warnings if repr(entry['name']) in w]))
                    for entry in published)
    found = {}
    if interface == 'batch':
        task = result.task_result('One batch')
        for entry in task['clients']:
            found[entry['name']] = ('changed' if entry['changed'] else 'ok', entry,
                                    [w for w in warnings_of(task) if repr(entry['name']) in w])
        return found
    for entry in result.task(MODULE_TASK):
        task_warnings = warnings_of(entry['result'])
        for item in entry['result'].get('results') or []:
            name = item['item']['name']
            warnings = warnings_of(item) + [w for w in task_warnings if repr(name) in w]
            found[name] = ('changed' if item.get('changed') else 'ok', item, warnings)
    return found


def unconfirmed_warnings(warnings):
    return [w for w in warnings if 'unconfirmed' in w]


@pytest.mark.parametrize('entity', ['readable', 'hidden'])
@pytest.mark.parametrize('interface', ['module', 'role'])
def test_repeated_jobs_with_an_empty_cache_add_no_row_after_the_first(simulator, run_playbook, tmp_path, interface, entity):
    simulator.configure(redirect_entity=entity, authorize_endpoint='off')  # the endpoint's evidence: test_redirect_evidence.py
    jobs = Jobs(simulator, run_playbook, tmp_path, interface)
    declared = dict(DECLARED)

    first, log, first_cache = jobs.run(declared)
    assert first.rc == 0, first
    assert sorted(endpoints(log, 'write')) == ['AddClient', 'AddClient', 'AddRedirectUrls', 'AddRedirectUrls'], log
    assert_site_is(simulator, declared)
    # the job that created them knows their ids (AddRedirectUrls answered them), whatever the site lets read
    for name, urls in declared.items():
        assert cache_urls(cache_clients(first_cache, simulator)[name]) == server_urls(server_clients(simulator)[name][0])

    for job in range(2, JOBS + 1):
        again, log, cache_path = jobs.run(declared)
        assert again.rc == 0, again
        assert writes(log) == [], 'job %d (empty cache) wrote: %s' % (job, endpoints(log, 'write'))
        assert_site_is(simulator, declared)
        outcome = per_integration(again, interface)
        assert sorted(outcome) == sorted(declared), outcome
        cached = cache_clients(cache_path, simulator)
        for name, urls in declared.items():
            status, result, warnings = outcome[name]
            assert status in ('ok', 'unchanged'), (job, name, status, result)
            if entity == 'readable':
                # read from the site with their ids: recorded, nothing unconfirmed
                assert not unconfirmed_warnings(warnings), warnings
                if interface == 'module':
                    assert 'unconfirmed_redirect_urls' not in result, result
                assert cache_urls(cached[name]) == server_urls(server_clients(simulator)[name][0])
            else:
                # cannot be read: unconfirmed, named in a warning (and in the module's result), never added
                named = unconfirmed_warnings(warnings)
                assert len(named) == 1 and all(url in named[0] for url in urls), (job, name, warnings)
                assert 'add_unconfirmed_redirect_urls' in named[0], named
                if interface == 'module':
                    assert sorted(result['unconfirmed_redirect_urls']) == sorted(urls), result
                # the cache does not claim them: an unknown list stays unknown
                assert not cached[name].get('redirect_urls'), cached[name]

    # the declaration grows by one URI (and, readable, loses another): exactly that is done, once
    grown = {TWO: DECLARED[TWO] + ['https://two.example.com/third'], THREE: DECLARED[THREE][:2]}
    changed, log, _cache = jobs.run(grown)
    assert changed.rc == 0, changed
    if entity == 'readable':
        assert sorted(endpoints(log, 'write')) == ['AddRedirectUrls', 'DeleteRedirectUrl'], log
        assert_site_is(simulator, grown)
    else:
        # nothing can be confirmed: the new URI too is reported, and nothing is removed by a guess
        assert writes(log) == [], endpoints(log, 'write')
        assert_site_is(simulator, declared)
        outcome = per_integration(changed, interface)
        assert 'https://two.example.com/third' in unconfirmed_warnings(outcome[TWO][2])[0], outcome[TWO]
    for job in range(2):
        again, log, _cache = jobs.run(grown)
        assert again.rc == 0 and writes(log) == [], (job, endpoints(log, 'write'), again)
        assert_site_is(simulator, grown if entity == 'readable' else declared)


def test_the_role_result_names_unconfirmed_redirect_uris(simulator, run_playbook, tmp_path):
    simulator.configure(redirect_entity='hidden', authorize_endpoint='off')  # no evidence at all (with it: test_redirect_evidence.py)
    jobs = Jobs(simulator, run_playbook, tmp_path, 'role')
    assert jobs.run(DECLARED)[0].rc == 0
    again, log, _cache = jobs.run(DECLARED)
    assert again.rc == 0 and writes(log) == [], again
    published = again.task_result(ROLE_RECORD)['ansible_facts']['creatio_integrations_result']
    summary = '\n'.join(again.task_result(ROLE_SUMMARY)['msg'])
    for entry in published:
        urls = DECLARED[entry['name']]
        assert all(url in json.dumps(entry) or url in summary for url in urls), (entry, summary)


# --- an integration made by hand with URI A, declared with [A, B] --------------------------------

def _make_by_hand(sim):
    """AddClient + AddRedirectUrls [A] through the real API, as a person on the integration page."""
    session = DirectSession(sim)
    created = session.call('AddClient', 'addClientRequest',
                           {'name': HAND, 'applicationUrl': HAND_APP, 'grantType': 'authorization_code'})
    session.call('AddRedirectUrls', 'redirectUrlsRequest', {'clientId': created['clientId'], 'redirectUrls': [URI_A]})
    sim.clear_log()
    return server_clients(sim)[HAND][0]['redirectUrls'][0]['id']


def _hand_declared():
    return {HAND: [URI_A, URI_B]}


def _hand_outcome(result, interface):
    return per_integration(result, interface)[HAND]


@pytest.mark.parametrize('interface', ['module', 'batch'])
def test_hidden_list_the_explicit_step_adds_the_declared_uris_once(simulator, run_playbook, tmp_path, interface):
    simulator.configure(redirect_entity='hidden', authorize_endpoint='off')  # no evidence at all (with it: test_redirect_evidence.py)
    first_a = _make_by_hand(simulator)
    declared = _hand_declared()
    jobs = Jobs(simulator, run_playbook, tmp_path, interface)

    # default: both unconfirmed (A is there, but nothing can show it), nothing written
    default, log, _cache = jobs.run(declared)
    assert default.rc == 0 and writes(log) == [], (endpoints(log, 'write'), default)
    status, result, warnings = _hand_outcome(default, interface)
    assert status == 'ok' and sorted(result['unconfirmed_redirect_urls']) == [URI_A, URI_B], result
    assert len(unconfirmed_warnings(warnings)) == 1 and URI_A in warnings[0] and URI_B in warnings[0], warnings
    assert rows(simulator) == {HAND: [URI_A]}

    # the explicit step: the declared URIs are added once and recorded with their ids; A has two rows
    explicit, log, cache_path = jobs.run(declared, add_unconfirmed=True)
    assert explicit.rc == 0, explicit
    assert endpoints(log, 'write') == ['AddRedirectUrls'], log
    status, result, warnings = _hand_outcome(explicit, interface)
    assert status == 'changed' and 'unconfirmed_redirect_urls' not in result and not unconfirmed_warnings(warnings), result
    added = [op for op in result['operations'] if op['call'] == 'AddRedirectUrls']
    assert len(added) == 1 and sorted(added[0]['request']['redirectUrls']) == [URI_A, URI_B], result['operations']
    assert rows(simulator) == {HAND: [URI_A, URI_A, URI_B]}
    recorded = cache_urls(cache_clients(cache_path, simulator)[HAND])
    on_site = dict((row['id'], row['redirectUrl']) for row in server_clients(simulator)[HAND][0]['redirectUrls'])
    assert sorted(recorded) == [URI_A, URI_B] and recorded[URI_A] != first_a, recorded
    assert all(on_site.get(rid) == url for url, rid in recorded.items()), (recorded, on_site)

    # with that cache: nothing more, whether the option stays on or not
    for add_unconfirmed in (True, False):
        again, log, _cache = jobs.run(declared, cache_path=cache_path, add_unconfirmed=add_unconfirmed)
        assert again.rc == 0 and writes(log) == [], (add_unconfirmed, endpoints(log, 'write'), again)
        assert 'unconfirmed_redirect_urls' not in _hand_outcome(again, interface)[1]

    # a later AWX job (empty cache, default): unconfirmed again, nothing added
    later, log, _cache = jobs.run(declared)
    assert later.rc == 0 and writes(log) == [], (endpoints(log, 'write'), later)
    assert sorted(_hand_outcome(later, interface)[1]['unconfirmed_redirect_urls']) == [URI_A, URI_B]
    assert rows(simulator) == {HAND: [URI_A, URI_A, URI_B]}


def test_readable_list_adds_only_the_missing_uri(simulator, run_playbook, tmp_path):
    first_a = _make_by_hand(simulator)
    declared = _hand_declared()
    jobs = Jobs(simulator, run_playbook, tmp_path, 'module')
    adopted, log, cache_path = jobs.run(declared)
    assert adopted.rc == 0, adopted
    assert endpoints(log, 'write') == ['AddRedirectUrls'], log
    status, result, warnings = _hand_outcome(adopted, 'module')
    assert status == 'changed' and not unconfirmed_warnings(warnings), result
    assert [op['request']['redirectUrls'] for op in result['operations']] == [[URI_B]], result['operations']
    assert rows(simulator) == {HAND: [URI_A, URI_B]}
    assert cache_urls(cache_clients(cache_path, simulator)[HAND])[URI_A] == first_a
    for _job in range(2):
        again, log, _cache = jobs.run(declared)
        assert again.rc == 0 and writes(log) == [], (endpoints(log, 'write'), again)
    assert rows(simulator) == {HAND: [URI_A, URI_B]}


def test_the_role_can_take_the_explicit_step(simulator, run_playbook, tmp_path):
    simulator.configure(redirect_entity='hidden', authorize_endpoint='off')  # no evidence at all (with it: test_redirect_evidence.py)
    _make_by_hand(simulator)
    items = [{'name': HAND, 'preset': 'custom', 'grant_type': 'authorization_code', 'application_url': HAND_APP,
              'redirect_urls': [URI_A, URI_B], 'add_unconfirmed_redirect_urls': True}]
    result = run_playbook(ROLE_PLAYBOOK, extra_vars={'creatio_integrations': items},
                          env={'CREATIO_CACHE_PATH': str(tmp_path / 'explicit' / 'facts.json')})
    assert result.rc == 0, result
    assert rows(simulator) == {HAND: [URI_A, URI_A, URI_B]}
