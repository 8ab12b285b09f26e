# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""End-to-end tests of creatio.oauth.creatio_oauth_clients (many integrations in one task): real
ansible-playbook runs against the simulator, asserting on its request log and state, on the facts
cache and on the secret files."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat

from helpers import (  # pylint: disable=import-error
    POWERBI_USER_ID, WEBHOOK_USER_ID, cache_clients, cache_files, cache_text, endpoints, msg_of, play, read_json, server_clients, writes)

TASK = 'All integrations'
BATCH = play("""
    - name: All integrations
      creatio.oauth.creatio_oauth_clients:
        clients: "{{ batch }}"
      register: applied
""")
NOT_A_USER = '7c9e6679-7425-40de-944b-e07fc1f90ae7'


def declared(secret_file):
    return [
        {'name': 'Power BI', 'grant_type': 'client_credentials', 'application_url': 'https://app.powerbi.com',
         'system_user_id': POWERBI_USER_ID, 'client_secret_file': secret_file},
        {'name': 'Webhooks', 'grant_type': 'client_credentials', 'application_url': 'https://hooks.example.com',
         'system_user_id': WEBHOOK_USER_ID},
        {'name': 'Outlook', 'grant_type': 'authorization_code', 'application_url': 'https://outlook.office.com',
         'redirect_urls': ['https://addin.example.com/cb', 'https://addin.example.com/silent']},
        {'name': 'Clio', 'grant_type': 'authorization_code', 'application_url': 'https://app.clio.com',
         'redirect_urls': ['https://app.clio.com/oauth/callback']},
    ]


def _run(run_playbook, sim, batch, **kwargs):
    mark = len(sim.log())
    result = run_playbook(BATCH, extra_vars={'batch': batch}, **kwargs)
    return result, sim.log()[mark:]


def _new_on_server(sim):
    return dict((name, rows) for name, rows in server_clients(sim).items() if not any(r.get('seeded') for r in rows))


def test_check_first_rerun_and_trusted_rerun_in_one_task(simulator, run_playbook, cache_path, tmp_path):
    secret_file = str(tmp_path / 'powerbi.json')
    batch = declared(secret_file)
    names = [c['name'] for c in batch]

    # check mode: one read for all four, no write, no cache, no secret file; a diff per integration
    check, log = _run(run_playbook, simulator, batch, check=True, diff=True)
    assert check.rc == 0, check
    assert check.statuses() == [(TASK, 'changed')]
    assert writes(log) == [] and endpoints(log).count('OData') == 1, log
    result = check.task_result(TASK)
    assert [c['name'] for c in result['clients']] == names
    assert [[op['call'] for op in c['operations']] for c in result['clients']] == [
        ['AddClient'], ['AddClient'], ['AddClient', 'AddRedirectUrls'], ['AddClient', 'AddRedirectUrls']]
    assert [d['before_header'] for d in result['diff']] == names
    assert all(d['before'] == {} for d in result['diff'])
    assert _new_on_server(simulator) == {} and cache_clients(cache_path, simulator) == {}
    assert not os.path.exists(secret_file)

    # first run: the writes of a first run, one OData read, the check run's session reused
    first, log = _run(run_playbook, simulator, batch)
    assert first.rc == 0, first
    # the secret file names the token URL: read once from the site's OpenID configuration (anonymous)
    # one anonymous read of the site's OpenID configuration tells the token URL (for the secret file) and
    # that the site has the redirect URI methods (Creatio 8.3) before the first authorization code integration,
    # when the site's OData description also tells where it lists redirect URIs (kept for the next runs),
    # and after each AddClient a read back by name (another controller may have created it meanwhile), and
    # at the end one more of the four at once (another controller's AddClient may have landed after a read back)
    assert endpoints(log) == ['OData', 'AddClient', 'OData', 'OpenIdConfiguration', 'AddClient', 'OData', 'Metadata', 'AddClient',
                              'OData', 'AddRedirectUrls', 'AddClient', 'OData', 'AddRedirectUrls', 'OData'], log
    result = first.task_result(TASK)
    assert result['changed'] is True and [c['changed'] for c in result['clients']] == [True] * 4
    server = _new_on_server(simulator)
    assert sorted(server) == sorted(names) and all(len(rows) == 1 for rows in server.values())
    cached = cache_clients(cache_path, simulator)
    for entry in result['clients']:
        assert entry['failed'] is False and entry['source'] == 'none'
        assert entry['client']['client_id'] == server[entry['name']][0]['clientId'] == cached[entry['name']]['client_id']
        assert entry['client_secret']  # the documented exception: the run that created it
    assert sorted(u['url'] for u in cached['Outlook']['redirect_urls']) == sorted(batch[2]['redirect_urls'])
    assert all(u['id'] for u in cached['Clio']['redirect_urls'])
    secret = read_json(secret_file)
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert secret['client_id'] == server['Power BI'][0]['clientId']
    assert secret['client_secret'] == result['clients'][0]['client_secret']
    assert secret['token_url'] == simulator.identity_url + '/connect/token'  # discovered, not guessed
    facts_stamp = [(f, os.stat(f).st_mtime_ns, os.stat(f).st_ino) for f in cache_files(cache_path)]
    assert len(facts_stamp) == 1  # one site, one file
    for entry in result['clients']:
        assert entry['client_secret'] not in cache_text(cache_path)

    # re-run: one read confirms all four, one more reads the redirect URI rows of the authorization
    # code ones (the site's list is what counts; the entity that holds them was found in $metadata by
    # the first run); no login, no write, no local file rewritten
    rerun, log = _run(run_playbook, simulator, batch)
    assert rerun.rc == 0 and rerun.statuses() == [(TASK, 'ok')], rerun
    assert endpoints(log) == ['OData', 'RedirectUrlEntity'], log
    result = rerun.task_result(TASK)
    assert [c['source'] for c in result['clients']] == ['cache+server'] * 4
    assert all('client_secret' not in c for c in result['clients'])
    assert [(f, os.stat(f).st_mtime_ns, os.stat(f).st_ino) for f in cache_files(cache_path)] == facts_stamp
    assert _new_on_server(simulator) == server

    # verify: false: the cache answers for all four; nothing is sent at all
    mark = len(simulator.log())
    trusted = run_playbook(play("""
    - name: All integrations
      creatio.oauth.creatio_oauth_clients:
        clients: "{{ batch }}"
        verify: false
      register: applied
"""), extra_vars={'batch': batch})
    assert trusted.rc == 0 and trusted.statuses() == [(TASK, 'ok')], trusted
    assert [c['source'] for c in trusted.task_result(TASK)['clients']] == ['cache'] * 4
    assert simulator.log()[mark:] == []


def test_one_bad_item_refuses_the_task_before_any_request(simulator, run_playbook, cache_path, tmp_path):
    batch = declared(None)
    batch[0].pop('client_secret_file')
    batch[2]['system_user_id'] = 'not-a-guid'
    result, log = _run(run_playbook, simulator, batch)
    assert result.rc == 2 and result.failed_tasks() == [TASK], result
    task = result.task_result(TASK)
    assert task['error']['option'] == 'clients[2].system_user_id'
    assert msg_of(task).startswith('clients[2] (Outlook): system_user_id'), msg_of(task)
    assert log == [] and not cache_files(cache_path)

    duplicate = declared(None)[:2] + [dict(declared(None)[1], application_url='https://other.example.com')]
    duplicate[0].pop('client_secret_file')
    result, log = _run(run_playbook, simulator, duplicate)
    assert result.rc == 2, result
    task = result.task_result(TASK)
    assert task['error']['option'] == 'clients[2].name' and "'Webhooks' is already declared by clients[1]" in msg_of(task)
    assert log == []


def test_an_item_refused_by_creatio_fails_alone(simulator, run_playbook, cache_path):
    batch = declared(None)
    batch[0].pop('client_secret_file')
    batch[1]['system_user_id'] = NOT_A_USER
    result, log = _run(run_playbook, simulator, batch)
    assert result.rc == 2 and result.failed_tasks() == [TASK], result
    task = result.task_result(TASK)
    assert [c['failed'] for c in task['clients']] == [False, True, False, False]
    failed = task['clients'][1]
    assert failed['error']['call'] == 'AddClient' and failed['error']['creatio_message'] == 'Specified system user is not valid.'
    assert 'hint:' in failed['msg']
    assert msg_of(task).startswith('1 of 4 integration(s) failed: Webhooks: AddClient was refused by Creatio'), msg_of(task)
    assert task['changed'] is True
    assert sorted(_new_on_server(simulator)) == ['Clio', 'Outlook', 'Power BI']
    assert sorted(cache_clients(cache_path, simulator)) == ['Clio', 'Outlook', 'Power BI']
    assert endpoints(log).count('AddClient') == 4 and endpoints(log).count('OData') == 1 + 3 + 1  # + a read back per creation, + one at the end


def test_a_failure_that_would_fail_every_item_stops_the_batch(simulator, run_playbook, cache_path):
    batch = declared(None)
    batch[0].pop('client_secret_file')
    result, log = _run(run_playbook, simulator, batch, env={'CREATIO_PASSWORD': 'wrong password'})
    assert result.rc == 2, result
    task = result.task_result(TASK)
    assert [c.get('attempted') for c in task['clients']] == [False] * 4
    assert msg_of(task).startswith('4 of 4 integration(s) failed; all of them not attempted, because Creatio refused the login '), msg_of(task)
    assert 'call: Login' in msg_of(task) and 'wrong password' not in json.dumps(task)
    assert endpoints(log) == ['Login'], log  # one refused login, not one per integration
    assert _new_on_server(simulator) == {}


def test_a_lost_addclient_answer_is_settled_by_a_fresh_read_and_the_batch_goes_on(simulator, run_playbook, cache_path):
    batch = declared(None)
    batch[0].pop('client_secret_file')
    # Creatio creates the first integration, then the connection drops before its answer
    simulator.configure(faults=[{'endpoint': 'AddClient', 'drop': True, 'phase': 'after', 'count': 1}])
    result, log = _run(run_playbook, simulator, batch)
    assert result.rc == 2, result
    task = result.task_result(TASK)
    assert [c['failed'] for c in task['clients']] == [True, False, False, False]
    lost = task['clients'][0]
    assert lost['error']['type'] == 'LostAnswerError' and 'did create the integration' in lost['msg']
    assert 'client_secret' not in lost
    # the batch's read ahead, then the fresh read that settled the lost answer: AddClient not resent
    assert endpoints(log)[:5] == ['Login', 'OData', 'AddClient', 'OData', 'AddClient'], log
    assert endpoints(log).count('AddClient') == 4
    server = _new_on_server(simulator)
    assert sorted(server) == sorted(c['name'] for c in batch) and all(len(rows) == 1 for rows in server.values())
    assert cache_clients(cache_path, simulator)['Power BI']['client_id'] == server['Power BI'][0]['clientId']

    simulator.configure(faults=[])
    again, log = _run(run_playbook, simulator, batch)
    assert again.rc == 0 and again.statuses() == [(TASK, 'ok')], again
    assert endpoints(log) == ['OData', 'RedirectUrlEntity'] and _new_on_server(simulator) == server


def test_a_site_wide_refusal_on_the_first_write_stops_the_batch_there(simulator, run_playbook, cache_path):
    batch = declared(None)
    batch[0].pop('client_secret_file')
    simulator.configure(oauth_feature=False)  # every write answers "OAuth 2.0 integration is disabled"
    result, log = _run(run_playbook, simulator, batch)
    assert result.rc == 2, result
    task = result.task_result(TASK)
    assert [c['failed'] for c in task['clients']] == [True] * 4
    assert [c.get('attempted') for c in task['clients']] == [None, False, False, False]
    assert 'OAuth20Integration' in task['clients'][0]['msg']  # the hint names the feature to switch on
    assert msg_of(task).startswith('4 of 4 integration(s) failed: Power BI: AddClient was refused by Creatio'), msg_of(task)
    assert msg_of(task).endswith('3 of them not attempted, because the failure of Power BI would fail them too')
    assert endpoints(log).count('AddClient') == 1  # not one refused write per integration
    assert _new_on_server(simulator) == {} and cache_clients(cache_path, simulator) == {}
