# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""System users by name (issue 13): system_user resolved through OData SysAdminUnit to the Id of a
user record; unknown names fail before any write; create_system_user creates a technical user once."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from helpers import endpoints, msg_of, play, server_client, server_clients, writes  # pylint: disable=import-error

BATCH = play("""
    - name: Integrations acting as users named
      creatio.oauth.creatio_oauth_clients:
        clients:
          - {name: Power BI, preset: powerbi, system_user: PowerBIUser}
          - {name: Hooks, preset: webhooks, application_url: 'https://hooks.example.com', system_user: "{{ hooks_user }}",
             create_system_user: "{{ create | default(false) }}"}
      register: applied
""")


def _run(run_playbook, sim, playbook, **kwargs):
    mark = len(sim.log())
    result = run_playbook(playbook, **kwargs)
    return result, sim.log()[mark:]


def _user_id(sim, name):
    ids = [u['id'] for u in sim.state()['users'] if u['name'] == name]
    assert len(ids) == 1, ids
    return ids[0].lower()


def test_names_resolve_unknown_ones_fail_before_any_write_and_a_technical_user_is_created_once(simulator, run_playbook):
    unknown, log = _run(run_playbook, simulator, BATCH, extra_vars={'hooks_user': 'NoSuchUser'})
    assert unknown.rc == 2 and writes(log) == [], log
    task = unknown.task_result('Integrations acting as users named')
    assert "no user named 'NoSuchUser'" in msg_of(task) and 'create_system_user' in msg_of(task)
    assert task['error']['option'] == 'system_user'
    assert endpoints(log).count('SysAdminUnit') == 1  # one read for every name of the list

    created, log = _run(run_playbook, simulator, BATCH, extra_vars={'hooks_user': 'HooksBot', 'create': True})
    assert created.rc == 0, created
    assert endpoints(log, 'write') == ['CreateTechnicalUser', 'AddClient', 'AddClient'], log  # the user first
    bot = _user_id(simulator, 'HooksBot')
    assert server_client(simulator, 'Hooks')['systemUserId'].lower() == bot
    assert server_client(simulator, 'Power BI')['systemUserId'].lower() == _user_id(simulator, 'PowerBIUser')
    hooks = created.task_result('Integrations acting as users named')['clients'][1]
    assert hooks['system_user'] == {'name': 'HooksBot', 'id': bot, 'created': True}

    again, log = _run(run_playbook, simulator, BATCH, extra_vars={'hooks_user': 'HooksBot', 'create': True})
    assert again.rc == 0 and writes(log) == [], log  # idempotent by name: the user exists now
    assert again.task_result('Integrations acting as users named')['clients'][1]['system_user']['created'] is False
    assert [u['name'] for u in simulator.state()['users']].count('HooksBot') == 1


def test_check_mode_predicts_the_technical_user_and_creates_nothing(simulator, run_playbook):
    check, log = _run(run_playbook, simulator, BATCH, extra_vars={'hooks_user': 'HooksBot', 'create': True}, check=True)
    assert check.rc == 0 and writes(log) == [], log
    hooks = check.task_result('Integrations acting as users named')['clients'][1]
    assert hooks['system_user']['created'] is True and 'HooksBot' in hooks['system_user']['id']
    assert 'HooksBot' not in [u['name'] for u in simulator.state()['users']]


def test_a_site_without_create_technical_user_says_so_before_any_write(simulator, run_playbook):
    simulator.configure(creatio_version='8.1')
    result, log = _run(run_playbook, simulator, BATCH, extra_vars={'hooks_user': 'HooksBot', 'create': True})
    assert result.rc == 2 and writes(log) == [], log
    msg = msg_of(result.task_result('Integrations acting as users named'))
    assert 'create_system_user needs Creatio 8.3 or later' in msg, msg
    assert set(server_clients(simulator)) == {'Ansible automation'}


def test_users_that_cannot_be_read_say_so(simulator, run_playbook):
    simulator.configure(sysadminunit_status=403)
    result, log = _run(run_playbook, simulator, BATCH, extra_vars={'hooks_user': 'WebhookUser'})
    assert result.rc == 2 and writes(log) == [], log
    msg = msg_of(result.task_result('Integrations acting as users named'))
    assert 'SysAdminUnit' in msg and 'system_user_id' in msg, msg
