# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real Creatio sites (issue 13): the API under /0 (.NET Framework) or at the site root (.NET Core),
found out without any option; Creatio 8.1, which has no redirect URI methods and no grant types; and
Creatio's own site-wide texts, in English and German, stopping a batch at the first write."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from helpers import (  # pylint: disable=import-error
    POWERBI_USER_ID, cache_clients, endpoints, msg_of, play, remove_cache, server_client, server_clients, writes)

TWO = play("""
    - name: Server to server
      creatio.oauth.creatio_oauth_client:
        name: Power BI
        grant_type: client_credentials
        application_url: https://app.powerbi.com
        system_user_id: %s

    - name: On behalf of a user
      creatio.oauth.creatio_oauth_client:
        name: Outlook add-in
        grant_type: authorization_code
        application_url: https://outlook.office.com
        system_user_id: "{{ ac_system_user | default(omit) }}"
        redirect_urls: "{{ ac_urls }}"
""" % POWERBI_USER_ID)
ONE_URI = ['https://addin.example.com/callback']
TWO_URIS = ['https://addin.example.com/callback', 'https://addin.example.com/silent']


def _run(run_playbook, sim, playbook, **kwargs):
    mark = len(sim.log())
    result = run_playbook(playbook, **kwargs)
    return result, sim.log()[mark:]


def _paths(log):
    return [e['path'] for e in log if e['endpoint'] not in ('Login', 'Token')]


@pytest.mark.parametrize('platform', ['netframework', 'netcore'])
def test_both_platforms_without_configuration(simulator, run_playbook, cache_path, platform):
    """The same playbook creates, re-runs with 0 writes and adopts after a lost cache on both
    platforms; finding the API root costs at most one request on a site not met, none on a re-run."""
    simulator.configure(platform=platform)
    first, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': TWO_URIS})
    assert first.rc == 0, first
    assert endpoints(log, 'write') == ['AddClient', 'AddClient', 'AddRedirectUrls'], log
    misses = [e for e in log if e['status'] == 404]
    api = '/0' if platform == 'netframework' else ''
    if platform == 'netframework':
        assert misses == []  # /0 is tried first: nothing to find out
    else:
        assert len(misses) == 1 and misses[0]['path'].startswith('/0/'), misses  # the one extra request
    assert all(p.startswith(api + '/rest/') or p.startswith(api + '/odata/') or p.startswith(api + '/.well-known/')
               for p in _paths([e for e in log if e['status'] != 404])), _paths(log)
    assert first.task_result('Server to server')['site']['platform'] == platform
    assert sorted(server_clients(simulator)) == ['Ansible automation', 'Outlook add-in', 'Power BI']

    again, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': TWO_URIS})
    assert again.rc == 0 and writes(log) == [] and [e for e in log if e['status'] == 404] == [], log
    assert again.statuses() == [('Server to server', 'ok'), ('On behalf of a user', 'ok')]

    remove_cache(cache_path)  # adopt: the platform is found again, the redirect URIs read from the site
    adopted, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': TWO_URIS})
    assert adopted.rc == 0 and writes(log) == [], log
    assert len([e for e in log if e['status'] == 404]) == (1 if platform == 'netcore' else 0)
    assert adopted.task_result('On behalf of a user')['source'] == 'server'
    assert 'unconfirmed_redirect_urls' not in adopted.task_result('On behalf of a user')
    assert len(server_clients(simulator)['Outlook add-in']) == 1


def test_a_pinned_platform_sends_nothing_to_the_other_root(simulator, run_playbook):
    simulator.configure(platform='netcore')
    result, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': ONE_URI}, env={'CREATIO_PLATFORM': 'netcore'})
    assert result.rc == 0, result
    assert not [e for e in log if e['path'].startswith('/0/')], log
    wrong, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': ONE_URI}, env={'CREATIO_PLATFORM': 'netframework'})
    assert wrong.rc == 2 and writes(log) == [], wrong  # pinned to the wrong one: it fails, nothing is written
    assert 'creatio_url' in msg_of(wrong.task_result('Server to server'))


@pytest.mark.parametrize('platform', ['netframework', 'netcore'])
def test_creatio_8_1(simulator, run_playbook, cache_path, platform):
    """Before 8.3: a client credentials integration works as before; an authorization code one with
    one URI goes through AddClient's redirectUrl and is read back from OData RedirectUrl; it needs a
    system user; two URIs fail before any write, naming the version needed."""
    simulator.configure(creatio_version='8.1', platform=platform)
    missing_user, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': ONE_URI})
    assert missing_user.rc == 2 and endpoints(log, 'write') == ['AddClient'], log  # only Power BI
    msg = msg_of(missing_user.task_result('On behalf of a user'))
    assert 'system user' in msg and '8.3' in msg and 'system_user' in msg, msg

    first, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': ONE_URI, 'ac_system_user': POWERBI_USER_ID})
    assert first.rc == 0, first
    assert endpoints(log, 'write') == ['AddClient'], log  # Power BI exists; one AddClient with redirectUrl
    outlook = server_client(simulator, 'Outlook add-in')
    assert [r['redirectUrl'] for r in outlook['redirectUrls']] == ONE_URI
    result = first.task_result('On behalf of a user')
    assert result['site']['creatio_version'] == 'before 8.3' and result['site']['redirect_uri_methods'] is False
    assert 'redirectUrl' in result['operations'][0]['summary']

    again, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': ONE_URI, 'ac_system_user': POWERBI_USER_ID})
    assert again.rc == 0 and writes(log) == [], log

    remove_cache(cache_path)  # lost cache: the one URI is read back from the RedirectUrl column
    adopted, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': ONE_URI, 'ac_system_user': POWERBI_USER_ID})
    assert adopted.rc == 0 and writes(log) == [], log
    assert [r['url'] for r in cache_clients(cache_path, simulator)['Outlook add-in']['redirect_urls']] == ONE_URI

    moved, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': ['https://addin.example.com/v2'],
                                                                'ac_system_user': POWERBI_USER_ID})
    assert moved.rc == 0 and endpoints(log, 'write') == ['UpdateClient'], log
    assert [r['redirectUrl'] for r in server_client(simulator, 'Outlook add-in')['redirectUrls']] == ['https://addin.example.com/v2']

    two, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': TWO_URIS, 'ac_system_user': POWERBI_USER_ID})
    assert two.rc == 2 and writes(log) == [], log
    msg = msg_of(two.task_result('On behalf of a user'))
    assert 'Creatio 8.3 or later' in msg and 'more than one redirect URI' in msg, msg


def test_a_system_user_with_authorization_code_is_refused_by_8_3_before_any_write(simulator, run_playbook):
    result, log = _run(run_playbook, simulator, TWO, extra_vars={'ac_urls': ONE_URI, 'ac_system_user': POWERBI_USER_ID})
    assert result.rc == 2, result
    assert endpoints(log, 'write') == ['AddClient'], log  # Power BI only
    failed = result.task_result('On behalf of a user')
    assert failed['error']['option'] == 'system_user_id' and 'client_credentials' in msg_of(failed)


@pytest.mark.parametrize('language', ['en', 'de'])
def test_an_identity_service_outage_stops_a_batch_at_the_first_write(simulator, run_playbook, language):
    """Creatio's own text names OAuth20IdentityServerUrl, in any language: the batch stops there."""
    simulator.configure(identity_up=False, language=language)
    result, log = _run(run_playbook, simulator, play("""
    - name: Three integrations
      creatio.oauth.creatio_oauth_clients:
        clients:
          - {name: One, preset: powerbi, system_user_id: %(user)s}
          - {name: Two, preset: powerbi, system_user_id: %(user)s}
          - {name: Three, preset: powerbi, system_user_id: %(user)s}
""" % {'user': POWERBI_USER_ID}))
    assert result.rc == 2, result
    assert endpoints(log, 'write') == ['AddClient'], log
    task = result.task_result('Three integrations')
    assert [c.get('attempted', True) for c in task['clients']] == [True, False, False]
    first = task['clients'][0]
    assert 'OAuth20IdentityServerUrl' in first['error']['hint'] and 'OAuth20IdentityServerUrl' in first['msg']
    assert '2 of them not attempted' in msg_of(task)
    assert server_clients(simulator).keys() == {'Ansible automation'}
