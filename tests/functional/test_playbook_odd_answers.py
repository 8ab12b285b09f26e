# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Odd answers end to end (issue 20): creatio_oauth_client never makes a second integration from
an answer it cannot read, and always fails with a message that says what happened."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from helpers import (  # pylint: disable=import-error
    POWERBI_USER_ID, cache_clients, count, msg_of, play, server_clients, writes)

TASK = 'Power BI'
PLAYBOOK = play("""
    - name: Power BI
      creatio.oauth.creatio_oauth_client:
        name: Power BI
        grant_type: client_credentials
        application_url: https://app.powerbi.com
        system_user_id: %s
      register: created
""" % POWERBI_USER_ID)
GATEWAY_PAGE = '<html><body><h1>Gateway</h1><p>Your request was processed.</p></body></html>'


def _run(run_playbook, sim):
    mark = len(sim.log())
    result = run_playbook(PLAYBOOK)
    return result, sim.log()[mark:]


def test_an_html_page_after_add_client_acted_fails_with_the_client_id_and_creates_nothing_more(simulator, run_playbook,
                                                                                               cache_path):
    simulator.configure(faults=[{'endpoint': 'AddClient', 'phase': 'after', 'body': GATEWAY_PAGE, 'count': 1}])
    result, log = _run(run_playbook, simulator)
    assert result.rc == 2, result
    task = result.task_result(TASK)
    server = server_clients(simulator)['Power BI']
    assert len(server) == 1 and count(log, 'AddClient') == 1 and count(log, 'Login') == 1, log
    assert result.statuses() == [(TASK, 'failed')] and task['changed'] and task['error']['type'] == 'LostAnswerError'
    assert server[0]['clientId'] in msg_of(task) and 'so it is lost' in msg_of(task)
    assert 'state: absent' in task['error']['hint'] and 'client_secret' not in task
    assert cache_clients(cache_path, simulator)['Power BI']['client_id'] == server[0]['clientId']
    # the secret never reaches the output (the gateway's page hid it; the simulator keeps it)
    assert 'clientSecret' not in json.dumps(task)

    again, log = _run(run_playbook, simulator)
    assert again.rc == 0 and again.statuses() == [(TASK, 'ok')], again
    assert writes(log) == [] and len(server_clients(simulator)['Power BI']) == 1


def test_rows_without_a_client_id_fail_with_a_message_and_write_nothing(simulator, run_playbook, cache_path):
    first, _log = _run(run_playbook, simulator)
    assert first.rc == 0, first
    client_id = server_clients(simulator)['Power BI'][0]['clientId']
    simulator.configure(faults=[{'endpoint': 'OData', 'rewrite': [['"ClientId": "[0-9A-F]+"', '"ClientId": null']],
                                 'count': None}])
    result, log = _run(run_playbook, simulator)
    assert result.rc == 2, result
    task = result.task_result(TASK)
    assert 'without a client id' in msg_of(task) and 'call: OData OAuthClientApp' in msg_of(task), msg_of(task)
    assert 'Module failed: None' not in result.output
    assert writes(log) == [], log
    assert [c['clientId'] for c in server_clients(simulator)['Power BI']] == [client_id]
    assert cache_clients(cache_path, simulator)['Power BI']['client_id'] == client_id
