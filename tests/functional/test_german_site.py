# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A site that answers in German (issue 14 item 4): the simulator's ``language: de`` words every
text of Creatio in German and keeps setting names, feature and operation codes as they are.

- Deleting is idempotent whatever the wording: a ``DeleteClient`` (or ``DeleteRedirectUrl``) whose
  answer was dropped after Creatio acted is retried by the transport, the retry answers "does not
  exist" in German, and the task must still report the deletion done, with the integration gone.
- ``state: absent`` after a delete by hand succeeds with no error, with ``verify`` on (the OData
  read shows it gone) and off (the cache is trusted, so the ``DeleteClient`` is sent and answered
  "does not exist" in German); and without a "will be created again" warning (issue 14 defect 8).
- A site-wide refusal (feature off, Identity Service down or refusing Creatio, no permission) stops
  a ``creatio_oauth_clients`` batch at the first write, with the hint naming the setting.

Each case runs in English too, as the control.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from helpers import (  # pylint: disable=import-error
    POWERBI_USER_ID, cache_clients, count, delete_client_directly, endpoints, msg_of, play, server_clients,
    server_urls, warnings_of, writes)

NAME = 'Bestellsystem'
CODE = 'Kundenportal'
URLS = ['https://portal.example.de/callback', 'https://portal.example.de/silent']

CREATE = play("""
    - name: Create
      creatio.oauth.creatio_oauth_client:
        name: Bestellsystem
        grant_type: client_credentials
        application_url: https://bestellung.example.de
        system_user_id: %s
""" % POWERBI_USER_ID)

DELETE = play("""
    - name: Delete
      creatio.oauth.creatio_oauth_client:
        name: Bestellsystem
        state: absent
        verify: "{{ verify | default(true) }}"
      register: deleted
""")

CREATE_CODE = play("""
    - name: Create with redirect URIs
      creatio.oauth.creatio_oauth_client:
        name: Kundenportal
        grant_type: authorization_code
        application_url: https://portal.example.de
        redirect_urls: %s
""" % URLS)

REMOVE_URL = play("""
    - name: Remove a redirect URI by id
      creatio.oauth.creatio_redirect_url:
        client_name: Kundenportal
        redirect_url_id: "{{ url_id }}"
        state: absent
""")

NOT_MATCHED = 'issue 14 item 4: "does not exist" is matched in English only (api.MESSAGE_RECORD_NOT_FOUND), so the German ' \
              'answer to the retried %s is a BusinessError and the task fails although the %s is gone (the errorCode ' \
              'ItemNotFoundException does not translate; settling by reading back is not in place)'


def _run(run_playbook, sim, playbook, **kwargs):
    mark = len(sim.log())
    result = run_playbook(playbook, **kwargs)
    return result, sim.log()[mark:]


def _failures(result):
    """The messages of the failed tasks (pytest cuts a long assertion text: these come first)."""
    return [r['result'].get('msg') for r in result.results if r['status'] == 'failed']


def _languages(call, what):  # pylint: disable=unused-argument
    return ['en', 'de']  # settled by reading back, in any language (NOT_MATCHED was the defect: %s of an %s)


@pytest.mark.parametrize('language', _languages('DeleteClient', 'integration'))
def test_a_dropped_delete_answer_is_still_done(simulator, run_playbook, cache_path, language):
    simulator.configure(language=language)
    created, _log = _run(run_playbook, simulator, CREATE)
    assert created.rc == 0, created
    # Creatio deletes it, then the connection drops before the answer; the retry hears "does not exist"
    simulator.configure(faults=[{'endpoint': 'DeleteClient', 'drop': True, 'phase': 'after', 'count': 1}])
    result, log = _run(run_playbook, simulator, DELETE)
    assert count(log, 'DeleteClient') == 2, log
    assert result.rc == 0, (_failures(result), result)
    deleted = result.task_result('Delete')
    assert deleted['changed'] is True and [op['call'] for op in deleted['operations']] == ['DeleteClient'], deleted
    assert NAME not in server_clients(simulator) and NAME not in cache_clients(cache_path, simulator)

    again, log = _run(run_playbook, simulator, DELETE)
    assert again.rc == 0 and again.statuses() == [('Delete', 'ok')] and writes(log) == [], again


@pytest.mark.parametrize('verify', [True, pytest.param(False, id='no-verify')])
@pytest.mark.parametrize('language', ['en', 'de'])
def test_absent_after_a_delete_by_hand_succeeds(simulator, run_playbook, cache_path, language, verify, request):
    simulator.configure(language=language)
    created, _log = _run(run_playbook, simulator, CREATE)
    assert created.rc == 0, created
    delete_client_directly(simulator, server_clients(simulator)[NAME][0]['clientId'])
    result, log = _run(run_playbook, simulator, DELETE, extra_vars={'verify': verify})
    assert result.rc == 0, (_failures(result), result)
    deleted = result.task_result('Delete')
    assert deleted['changed'] is False, deleted  # nothing to do on the site
    assert endpoints(log, 'write') == ([] if verify else ['DeleteClient']), log
    assert NAME not in server_clients(simulator) and NAME not in cache_clients(cache_path, simulator)


@pytest.mark.parametrize('language', ['en', 'de'])
def test_absent_after_a_delete_by_hand_does_not_talk_of_creating_it_again(simulator, run_playbook, language):
    simulator.configure(language=language)
    created, _log = _run(run_playbook, simulator, CREATE)
    assert created.rc == 0, created
    delete_client_directly(simulator, server_clients(simulator)[NAME][0]['clientId'])
    result, _log = _run(run_playbook, simulator, DELETE)
    assert result.rc == 0, result
    warnings = warnings_of(result.task_result('Delete'))
    assert not [w for w in warnings if 'created again' in w], warnings


@pytest.mark.parametrize('language', _languages('DeleteRedirectUrl', 'redirect URI'))
def test_a_dropped_redirect_uri_delete_answer_is_still_done(simulator, run_playbook, cache_path, language):
    simulator.configure(language=language)
    created, _log = _run(run_playbook, simulator, CREATE_CODE)
    assert created.rc == 0, created
    ids = server_urls(server_clients(simulator)[CODE][0])
    simulator.configure(faults=[{'endpoint': 'DeleteRedirectUrl', 'drop': True, 'phase': 'after', 'count': 1}])
    result, log = _run(run_playbook, simulator, REMOVE_URL, extra_vars={'url_id': ids[URLS[1]]})
    assert count(log, 'DeleteRedirectUrl') == 2, log
    assert result.rc == 0, (_failures(result), result)
    assert result.task_result('Remove a redirect URI by id')['changed'] is True
    assert sorted(server_urls(server_clients(simulator)[CODE][0])) == [URLS[0]]


BATCH = play("""
    - name: Three integrations
      creatio.oauth.creatio_oauth_clients:
        clients:
          - {name: Eins, preset: powerbi, system_user_id: %s}
          - {name: Zwei, preset: webhooks, application_url: 'https://hooks.example.de', system_user_id: %s}
          - {name: Drei, preset: outlook_addin, redirect_urls: ['https://addin.example.de/cb']}
""" % (POWERBI_USER_ID, POWERBI_USER_ID))

# switch -> (the setting or code the hint must name, the batch's first write refused)
SITE_WIDE = {
    'feature-off': ({'oauth_feature': False}, 'OAuth20Integration'),
    'identity-down': ({'identity_up': False}, 'OAuth20IdentityServerUrl'),
    'identity-refuses': ({'identity_refuses': True}, 'OAuth20IdentityServerClientId'),
    'no-permission': ({'admin_rights': False}, 'CanManageSolution'),
}


@pytest.mark.parametrize('refusal', sorted(SITE_WIDE))
@pytest.mark.parametrize('language', ['en', 'de'])
def test_a_site_wide_refusal_stops_the_batch_at_the_first_write(simulator, run_playbook, cache_path, language, refusal):
    switches, setting = SITE_WIDE[refusal]
    simulator.configure(language=language, **switches)
    result, log = _run(run_playbook, simulator, BATCH)
    assert result.rc == 2, result
    assert endpoints(log, 'write') == ['AddClient'], log  # not one refused write per integration
    task = result.task_result('Three integrations')
    assert [c.get('attempted', True) for c in task['clients']] == [True, False, False], task['clients']
    first = task['clients'][0]
    assert first['failed'] is True and setting in (first['error'].get('hint') or ''), first
    assert setting in first['msg'], first['msg']
    assert msg_of(task).endswith('2 of them not attempted, because the failure of Eins would fail them too'), msg_of(task)
    assert [n for n in server_clients(simulator) if n != 'Ansible automation'] == []
    assert cache_clients(cache_path, simulator) == {}
