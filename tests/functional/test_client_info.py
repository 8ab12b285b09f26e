# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""End-to-end tests of creatio.oauth.creatio_oauth_client_info against the simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from helpers import (  # pylint: disable=import-error
    AUTOMATION_CLIENT_ID, POWERBI_USER_ID, cache_clients, cache_text, cache_urls, delete_client_directly, play, server_client,
    server_urls, warnings_of, writes)

INFO_TASKS = """
    - name: Every integration
      creatio.oauth.creatio_oauth_client_info:
      register: every

    - name: One by name
      creatio.oauth.creatio_oauth_client_info:
        name: Gone
"""


def _by_name(clients):
    assert len(set(c['name'] for c in clients)) == len(clients), clients
    return dict((c['name'], c) for c in clients)


def test_sources_check_mode_odata_refused_and_no_secret(simulator, run_playbook, cache_path):
    first = run_playbook(play("""
    - name: Both
      creatio.oauth.creatio_oauth_client:
        name: Both
        grant_type: client_credentials
        application_url: https://both.example.com
        system_user_id: %s
      register: both

    - name: Gone
      creatio.oauth.creatio_oauth_client:
        name: Gone
        grant_type: authorization_code
        application_url: https://gone.example.com
        redirect_urls: [https://gone.example.com/cb, https://gone.example.com/cb2]
      register: gone
""" % POWERBI_USER_ID + INFO_TASKS))
    assert first.rc == 0, first
    secrets = [first.task_result('Both')['client_secret'], first.task_result('Gone')['client_secret']]
    assert all(len(s) >= 20 for s in secrets)
    clients = _by_name(first.task_result('Every integration')['clients'])
    assert first.task_result('Every integration')['odata_readable'] is True
    assert first.task_result('Every integration')['changed'] is False
    assert {n: c['source'] for n, c in clients.items()} == {
        'Ansible automation': 'server', 'Both': 'cache+server', 'Gone': 'cache+server'}
    server_both, server_gone = server_client(simulator, 'Both'), server_client(simulator, 'Gone')
    assert clients['Both']['client_id'] == server_both['clientId']
    assert clients['Both']['grant_type'] == 'client_credentials' and clients['Both']['system_user_id'] == POWERBI_USER_ID
    assert clients['Both']['application_url'] == 'https://both.example.com' and clients['Both']['active'] is True
    assert clients['Both']['confirmed_at']
    assert clients['Ansible automation']['confirmed_at'] is None
    assert clients['Ansible automation']['client_id'] == AUTOMATION_CLIENT_ID
    assert dict((r['url'], r['id']) for r in clients['Gone']['redirect_urls']) == server_urls(server_gone)
    one = first.task_result('One by name')['clients']
    assert [(c['name'], c['source']) for c in one] == [('Gone', 'cache+server')]
    for record in first.results:
        if record['task'] in ('Every integration', 'One by name'):
            assert not any(secret in json.dumps(record['result']) for secret in secrets)
            assert 'secret' not in json.dumps(record['result']['clients']).lower()

    # gone from the server; info in check mode: reads only, nothing written, the cache untouched
    delete_client_directly(simulator, server_gone['clientId'])
    cache_before = cache_text(cache_path)
    second = run_playbook(play(INFO_TASKS), check=True)
    assert second.rc == 0, second
    assert second.statuses() == [('Every integration', 'ok'), ('One by name', 'ok')]
    log = simulator.log()
    # reads only: the integrations, and the names of their system users (the export as code, issue 15)
    assert writes(log) == [] and {e['endpoint'] for e in log} <= {'Login', 'OData', 'SysAdminUnit'}
    clients = _by_name(second.task_result('Every integration')['clients'])
    assert {n: c['source'] for n, c in clients.items()} == {
        'Ansible automation': 'server', 'Both': 'cache+server', 'Gone': 'cache-only'}
    assert cache_urls(cache_clients(cache_path, simulator)['Gone']) == \
        dict((r['url'], r['id']) for r in clients['Gone']['redirect_urls'])
    assert [(c['name'], c['source']) for c in second.task_result('One by name')['clients']] == [('Gone', 'cache-only')]
    assert cache_text(cache_path) == cache_before

    # OData refused: from the cache, with a warning
    simulator.configure(odata_status=403)
    simulator.clear_log()
    third = run_playbook(play(INFO_TASKS))
    assert third.rc == 0, third
    assert third.statuses() == [('Every integration', 'ok'), ('One by name', 'ok')]
    every = third.task_result('Every integration')
    assert every['odata_readable'] is False
    assert any('OData' in w and 'facts cache' in w for w in warnings_of(every)), every
    clients = _by_name(every['clients'])
    assert {n: c['source'] for n, c in clients.items()} == {'Both': 'cache', 'Gone': 'cache'}
    assert clients['Both']['client_id'] == server_both['clientId']
    assert [(c['name'], c['source']) for c in third.task_result('One by name')['clients']] == [('Gone', 'cache')]
    assert writes(simulator.log()) == []
    assert [e['status'] for e in simulator.log() if e['endpoint'] == 'OData'] == [403, 403]
    assert cache_text(cache_path) == cache_before
    for record in second.results + third.results:
        assert not any(secret in json.dumps(record['result']) for secret in secrets)
        assert 'secret' not in json.dumps(record['result']['clients']).lower()
