# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redirect URIs on a site that does not list them (issue 21), through ansible-playbook: the
simulator hides its redirect-URI entity (``redirect_entity: hidden``) and serves the identity
service's authorization endpoint (``authorize_endpoint: on``, its default).

AWX-style jobs (each with an empty facts cache) on an integration made by hand with URI A and
declared with [A, B]: the first job adds B only (the endpoint shows A registered), the later ones
write nothing, and the site keeps one row per URI. A German site where a row was deleted by hand:
removing that URI from the list succeeds, and declaring it again adds it back.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from helpers import DirectSession, endpoints, play, server_clients, writes  # pylint: disable=import-error

HAND = 'Hand made portal'
URI_A, URI_B = 'https://hand.example.com/a', 'https://hand.example.com/b'

CLIENT = play("""
    - name: Portal
      creatio.oauth.creatio_oauth_client:
        name: Hand made portal
        grant_type: authorization_code
        application_url: https://hand.example.com
        redirect_urls: "{{ urls }}"
        add_unconfirmed_redirect_urls: "{{ add_unconfirmed | default(false) }}"
      register: portal
""")


def rows(sim):
    return sorted(row['redirectUrl'] for client in server_clients(sim).get(HAND, []) for row in client['redirectUrls'])


def job(sim, run_playbook, tmp_path, number, urls, **extra):
    mark = len(sim.log())
    result = run_playbook(CLIENT, extra_vars=dict(extra, urls=urls),
                          env={'CREATIO_CACHE_PATH': str(tmp_path / ('job-%d' % number) / 'facts.json')})
    return result, sim.log()[mark:]


def test_awx_jobs_add_only_the_missing_uri_and_no_row_after(simulator, run_playbook, tmp_path):
    simulator.configure(redirect_entity='hidden')
    session = DirectSession(simulator)
    made = session.call('AddClient', 'addClientRequest', {'name': HAND, 'applicationUrl': 'https://hand.example.com',
                                                          'grantType': 'authorization_code', 'redirectUrl': URI_A})
    assert made['clientId']
    first, log = job(simulator, run_playbook, tmp_path, 1, [URI_A, URI_B])
    assert first.rc == 0, first
    assert endpoints(log, 'write') == ['AddRedirectUrls'], log
    assert 'Authorize' in endpoints(log)
    result = first.task_result('Portal')
    assert 'unconfirmed_redirect_urls' not in result
    assert [op['request']['redirectUrls'] for op in result['operations']] == [[URI_B]]
    assert rows(simulator) == [URI_A, URI_B]
    # the explicit step too adds nothing where the endpoint shows both registered
    for number, extra in ((2, {}), (3, {'add_unconfirmed': True}), (4, {})):
        again, log = job(simulator, run_playbook, tmp_path, number, [URI_A, URI_B], **extra)
        assert again.rc == 0 and writes(log) == [], (number, endpoints(log, 'write'), again)
        assert again.task_result('Portal')['changed'] is False
    assert rows(simulator) == [URI_A, URI_B]
    assert all(e['auth'] == 'none' for e in simulator.log() if e['endpoint'] == 'Authorize')


def test_a_german_site_removes_a_row_already_gone_and_adds_it_back(simulator, run_playbook, tmp_path):
    simulator.configure(redirect_entity='hidden', language='de')
    cache = {'CREATIO_CACHE_PATH': str(tmp_path / 'one' / 'facts.json')}
    created = run_playbook(CLIENT, extra_vars={'urls': [URI_A, URI_B]}, env=cache)
    assert created.rc == 0 and rows(simulator) == [URI_A, URI_B], created
    row_b = [r['id'] for r in server_clients(simulator)[HAND][0]['redirectUrls'] if r['redirectUrl'] == URI_B][0]
    DirectSession(simulator).call('DeleteRedirectUrl', 'deleteRedirectUrlRequest', {'redirectUrlId': row_b})
    for _run in range(2):
        removed = run_playbook(CLIENT, extra_vars={'urls': [URI_A]}, env=cache)
        assert removed.rc == 0, removed
        assert rows(simulator) == [URI_A]
    back = run_playbook(CLIENT, extra_vars={'urls': [URI_A, URI_B]}, env=cache)
    assert back.rc == 0 and back.task_result('Portal')['changed'] is True, back
    assert rows(simulator) == [URI_A, URI_B]
