# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""End-to-end tests of creatio.oauth.creatio_oauth_client: real ansible-playbook runs against the
simulator, asserting on the simulator's request log and state and on the facts cache."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat
import sys
import urllib.parse
import urllib.request

from helpers import (  # pylint: disable=import-error
    AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET, POWERBI_USER_ID, WEBHOOK_USER_ID, cache_clients, cache_urls,
    count, delete_client_directly, endpoints, file_text, msg_of, play, read_json, remove_cache, server_client,
    server_clients, server_urls, sessions_path, warnings_of, writes)
from helpers import cache_text as helpers_cache_text  # pylint: disable=import-error

CC_NAME = 'Power BI'
AC_NAME = 'Outlook add-in'
AC_URLS = ['https://addin.example.com/callback', 'https://addin.example.com/silent-callback']

TWO_CLIENTS = play("""
    - name: Client credentials integration
      creatio.oauth.creatio_oauth_client:
        name: Power BI
        grant_type: client_credentials
        application_url: https://app.powerbi.com
        system_user_id: %s
        client_secret_file: "{{ secret_file }}"
      register: cc

    - name: Authorization code integration
      creatio.oauth.creatio_oauth_client:
        name: Outlook add-in
        grant_type: authorization_code
        application_url: https://outlook.office.com
        redirect_urls:
          - https://addin.example.com/callback
          - https://ADDIN.example.com/silent-callback
          - https://addin.example.com/callback
      register: ac
""" % POWERBI_USER_ID)


def _run(run_playbook, sim, playbook, **kwargs):
    """(result, the simulator log entries of this run)."""
    mark = len(sim.log())
    result = run_playbook(playbook, **kwargs)
    return result, sim.log()[mark:]


def _ops(task_result):
    return [op['call'] for op in task_result['operations']]


def test_check_apply_check_apply_is_idempotent(simulator, run_playbook, cache_path, tmp_path):
    secret_file = str(tmp_path / 'powerbi.json')
    env = {'CREATIO_IDENTITY_URL': simulator.identity_url}
    extra = {'secret_file': secret_file}

    # 1. check mode: would create both, reads only, nothing written anywhere
    first, log = _run(run_playbook, simulator, TWO_CLIENTS, extra_vars=extra, check=True, diff=True, env=env)
    assert first.rc == 0, first
    assert first.statuses() == [('Client credentials integration', 'changed'), ('Authorization code integration', 'changed')]
    assert writes(log) == [], log
    # reads only; the authorization code integration asks which Creatio this is (its OpenID configuration)
    # and where it lists redirect URIs ($metadata)
    assert set(endpoints(log)) <= {'Login', 'OData', 'OpenIdConfiguration', 'Metadata'}
    cc, ac = first.task_result('Client credentials integration'), first.task_result('Authorization code integration')
    assert _ops(cc) == ['AddClient'] and _ops(ac) == ['AddClient', 'AddRedirectUrls']
    assert ac['operations'][1]['request']['redirectUrls'] == AC_URLS
    assert 'client_secret' not in cc and 'client_secret' not in ac
    assert cc['diff']['before'] == {}
    assert cc['diff']['after']['grant_type'] == 'client_credentials'
    assert cc['diff']['after']['system_user_id'] == POWERBI_USER_ID
    assert ac['diff']['after']['redirect_urls'] == sorted(AC_URLS)
    assert not os.path.exists(secret_file)
    assert cache_clients(cache_path, simulator) == {}
    assert set(server_clients(simulator)) == {'Ansible automation'}

    # 2. apply: one AddClient each, one AddRedirectUrls with both URIs
    second, log = _run(run_playbook, simulator, TWO_CLIENTS, extra_vars=extra, diff=True, env=env)
    assert second.rc == 0, second
    assert second.statuses() == [('Client credentials integration', 'changed'), ('Authorization code integration', 'changed')]
    assert endpoints(log, 'write') == ['AddClient', 'AddClient', 'AddRedirectUrls'], log
    assert all(e['status'] == 200 for e in log)
    cc, ac = second.task_result('Client credentials integration'), second.task_result('Authorization code integration')
    assert cc['source'] == 'none' and ac['source'] == 'none'
    server_cc, server_ac = server_client(simulator, CC_NAME), server_client(simulator, AC_NAME)
    assert server_cc['grantType'] == 'client_credentials' and server_cc['systemUserId'] == POWERBI_USER_ID
    assert server_cc['applicationUrl'] == 'https://app.powerbi.com' and server_cc['isActive'] is True
    assert server_ac['grantType'] == 'authorization_code' and sorted(server_urls(server_ac)) == sorted(AC_URLS)
    assert cc['client']['client_id'] == server_cc['clientId']
    assert ac['client']['client_id'] == server_ac['clientId']
    for created in (cc, ac):
        assert isinstance(created['client_secret'], str) and len(created['client_secret']) >= 20
    # the ids Creatio returned are cached (and returned)
    cached = cache_clients(cache_path, simulator)
    assert set(cached) == {CC_NAME, AC_NAME}
    assert cache_urls(cached[AC_NAME]) == server_urls(server_ac)
    assert dict((r['url'], r['id']) for r in ac['client']['redirect_urls']) == server_urls(server_ac)
    assert cached[CC_NAME]['client_id'] == server_cc['clientId']
    assert cached[CC_NAME]['grant_type'] == 'client_credentials'
    # diff: managed fields, never the secret
    assert cc['diff']['before'] == {}
    assert cc['diff']['after']['client_id'] == server_cc['clientId']
    assert ac['diff']['after']['redirect_urls'] == sorted(AC_URLS)
    # the secret file: 0600, the real secret (it gets a token), and only the creating run wrote it
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    document = read_json(secret_file)
    assert document['client_id'] == server_cc['clientId']
    assert document['client_secret'] == cc['client_secret']
    assert document['token_url'] == simulator.identity_url + '/connect/token'
    # secrets: only in the creating task's client_secret
    secrets = [cc['client_secret'], ac['client_secret']]
    cache_text = helpers_cache_text(cache_path) + file_text(sessions_path(cache_path))
    for secret in secrets:
        assert secret not in cache_text
        for created in (cc, ac):
            assert secret not in json.dumps(created['diff']) + json.dumps(created['operations'])
            assert secret not in json.dumps(warnings_of(created))

    # 3. check mode again: no change, no write, the diff shows no difference
    third, log = _run(run_playbook, simulator, TWO_CLIENTS, extra_vars=extra, check=True, diff=True, env=env)
    assert third.rc == 0, third
    assert third.statuses() == [('Client credentials integration', 'ok'), ('Authorization code integration', 'ok')]
    assert writes(log) == []
    for task in ('Client credentials integration', 'Authorization code integration'):
        res = third.task_result(task)
        assert res['operations'] == [] and 'client_secret' not in res
        assert res['diff']['before'] == res['diff']['after']

    # 4. apply again: no change, no write, and the existing secret file is left alone
    fourth, log = _run(run_playbook, simulator, TWO_CLIENTS, extra_vars=extra, env=env)
    assert fourth.rc == 0, fourth
    assert fourth.statuses() == [('Client credentials integration', 'ok'), ('Authorization code integration', 'ok')]
    assert writes(log) == []
    assert fourth.task_result('Client credentials integration')['source'] == 'cache+server'
    assert read_json(secret_file) == document

    whole = simulator.log()
    assert count(whole, 'AddClient') == 2 and count(whole, 'AddRedirectUrls') == 1
    assert len(writes(whole)) == 3
    assert {n: len(c) for n, c in server_clients(simulator).items()} == {'Ansible automation': 1, CC_NAME: 1, AC_NAME: 1}

    # the secret written to the file is the one Creatio accepts
    form = urllib.parse.urlencode({'grant_type': 'client_credentials', 'client_id': document['client_id'],
                                   'client_secret': document['client_secret']}).encode('ascii')
    request = urllib.request.Request(document['token_url'], data=form, method='POST',
                                     headers={'Content-Type': 'application/x-www-form-urlencoded'})
    with urllib.request.urlopen(request, timeout=10) as response:  # nosec - loopback simulator
        assert json.loads(response.read().decode('utf-8'))['access_token']


LIFECYCLE = play("""
    - name: Lifecycle client
      creatio.oauth.creatio_oauth_client:
        name: Lifecycle
        grant_type: client_credentials
        application_url: "{{ app_url | default('https://app.example.com') }}"
        system_user_id: 0D5A3E22-4C1B-4F7E-8A66-3B9F2D7C5E02
        active: "{{ active | default(omit) }}"

    - name: Lifecycle code client
      creatio.oauth.creatio_oauth_client:
        name: Lifecycle code
        grant_type: authorization_code
        application_url: https://code.example.com
        redirect_urls:
          - https://code.example.com/cb
          - com.example.app:/callback
""")


def test_adopt_recreate_update_grant_change_and_delete(simulator, run_playbook, cache_path, tmp_path):
    existing = tmp_path / 'exists.json'
    existing.write_text(u'keep me')

    # create, plus one creation refused because its secret file exists
    first, log = _run(run_playbook, simulator, LIFECYCLE + """
    - name: Secret file exists
      creatio.oauth.creatio_oauth_client:
        name: Blocked
        grant_type: client_credentials
        application_url: https://blocked.example.com
        system_user_id: %s
        client_secret_file: "{{ existing }}"
      ignore_errors: true  # noqa: ignore-errors
""" % POWERBI_USER_ID, extra_vars={'existing': str(existing)})
    assert first.rc == 0, first
    assert first.statuses() == [('Lifecycle client', 'changed'), ('Lifecycle code client', 'changed'),
                                ('Secret file exists', 'failed')]
    blocked = first.task_result('Secret file exists')
    assert 'client_secret_file' in msg_of(blocked) and 'already exists' in msg_of(blocked), blocked
    assert blocked['error']['option'] == 'client_secret_file'
    assert endpoints(log, 'write') == ['AddClient', 'AddClient', 'AddRedirectUrls'], log  # none for Blocked
    assert 'Blocked' not in server_clients(simulator) and 'Blocked' not in cache_clients(cache_path, simulator)
    assert existing.read_text() == 'keep me'
    original = server_client(simulator, 'Lifecycle')
    assert original['systemUserId'] == WEBHOOK_USER_ID

    # cache lost: both adopted from OData, no second AddClient, ok
    remove_cache(cache_path)
    second, log = _run(run_playbook, simulator, LIFECYCLE)
    assert second.rc == 0, second
    assert second.statuses() == [('Lifecycle client', 'ok'), ('Lifecycle code client', 'ok')]
    assert writes(log) == [], log
    assert second.task_result('Lifecycle client')['source'] == 'server'
    code = second.task_result('Lifecycle code client')
    assert code['source'] == 'server'
    assert not warnings_of(code) and 'unconfirmed_redirect_urls' not in code, code
    cached = cache_clients(cache_path, simulator)
    assert cached['Lifecycle']['client_id'] == original['clientId']
    assert cached['Lifecycle']['grant_type'] == 'client_credentials'
    assert cached['Lifecycle code']['grant_type'] == 'authorization_code'
    # the redirect URIs were read from the site (its redirect-URI entity, found in $metadata), with their ids
    assert cache_urls(cached['Lifecycle code']) == server_urls(server_client(simulator, 'Lifecycle code'))
    assert sorted(cache_urls(cached['Lifecycle code'])) == ['com.example.app:/callback', 'https://code.example.com/cb']
    assert {'Metadata', 'RedirectUrlEntity'} <= set(endpoints(log))
    assert len(server_clients(simulator)['Lifecycle']) == 1

    # deleted on the server: created again, with a warning
    delete_client_directly(simulator, original['clientId'])
    third, log = _run(run_playbook, simulator, LIFECYCLE)
    assert third.rc == 0, third
    assert third.statuses() == [('Lifecycle client', 'changed'), ('Lifecycle code client', 'ok')]
    assert endpoints(log, 'write') == ['AddClient'], log
    again = third.task_result('Lifecycle client')
    assert any('no longer in Creatio' in w and 'created again' in w for w in warnings_of(again)), again
    recreated = server_client(simulator, 'Lifecycle')
    assert recreated['clientId'] != original['clientId']
    assert again['client']['client_id'] == recreated['clientId']
    assert len(again['client_secret']) >= 20
    assert cache_clients(cache_path, simulator)['Lifecycle']['client_id'] == recreated['clientId']

    # application_url changed -> one UpdateClient; active false -> one UpdateClient; grant change -> clear error
    fourth, log = _run(run_playbook, simulator, play("""
    - name: New application URL
      creatio.oauth.creatio_oauth_client:
        name: Lifecycle
        application_url: https://new.example.com/app

    - name: Deactivate
      creatio.oauth.creatio_oauth_client:
        name: Lifecycle
        active: false

    - name: Deactivate again
      creatio.oauth.creatio_oauth_client:
        name: Lifecycle
        grant_type: client_credentials
        application_url: https://new.example.com/app
        system_user_id: %s
        active: false

    - name: Change the grant type
      creatio.oauth.creatio_oauth_client:
        name: Lifecycle
        grant_type: authorization_code
        application_url: https://new.example.com/app
        redirect_urls: [https://new.example.com/cb]
      ignore_errors: true  # noqa: ignore-errors
""" % WEBHOOK_USER_ID))
    assert fourth.rc == 0, fourth
    assert fourth.statuses() == [('New application URL', 'changed'), ('Deactivate', 'changed'),
                                 ('Deactivate again', 'ok'), ('Change the grant type', 'failed')]
    assert endpoints(log, 'write') == ['UpdateClient', 'UpdateClient'], log
    url_ops = fourth.task_result('New application URL')['operations']
    assert [(op['call'], op['request']) for op in url_ops] == [
        ('UpdateClient', {'clientId': recreated['clientId'], 'applicationUrl': 'https://new.example.com/app'})]
    active_ops = fourth.task_result('Deactivate')['operations']
    assert [(op['call'], op['request']) for op in active_ops] == [
        ('UpdateClient', {'clientId': recreated['clientId'], 'isActive': False})]
    updated = server_client(simulator, 'Lifecycle')
    assert updated['applicationUrl'] == 'https://new.example.com/app' and updated['isActive'] is False
    assert updated['clientId'] == recreated['clientId'] and updated['grantType'] == 'client_credentials'
    grant = fourth.task_result('Change the grant type')
    message = msg_of(grant)
    assert 'Creatio cannot change the grant type' in message, grant
    assert 'state: absent' in message and 'new grant_type' in message
    assert grant['error']['option'] == 'grant_type' and grant['changed'] is False
    cached = cache_clients(cache_path, simulator)['Lifecycle']
    assert cached['application_url'] == 'https://new.example.com/app' and cached['active'] is False

    # state absent twice: one DeleteClient, then ok; the cache entry is gone
    fifth, log = _run(run_playbook, simulator, play("""
    - name: Remove
      creatio.oauth.creatio_oauth_client:
        name: Lifecycle
        state: absent

    - name: Remove again
      creatio.oauth.creatio_oauth_client:
        name: Lifecycle
        state: absent
"""))
    assert fifth.rc == 0, fifth
    assert fifth.statuses() == [('Remove', 'changed'), ('Remove again', 'ok')]
    assert endpoints(log, 'write') == ['DeleteClient'], log
    assert fifth.task_result('Remove')['operations'][0]['request'] == {'clientId': recreated['clientId']}
    assert fifth.task_result('Remove again')['client'] == {}
    assert 'Lifecycle' not in server_clients(simulator)
    assert 'Lifecycle' not in cache_clients(cache_path, simulator)
    assert 'Lifecycle code' in cache_clients(cache_path, simulator)
    assert count(simulator.log(), 'AddClient') == 1  # since the log was last emptied: the re-creation only


def test_odata_refused_works_from_the_cache(simulator, run_playbook, cache_path):
    created = play("""
    - name: Create
      creatio.oauth.creatio_oauth_client:
        name: Cached only
        grant_type: authorization_code
        application_url: https://cached.example.com
        redirect_urls: [https://cached.example.com/cb]
""")
    first, log = _run(run_playbook, simulator, created)
    assert first.rc == 0, first
    assert first.changed_tasks() == ['Create']
    simulator.configure(odata_status=403)

    second, log = _run(run_playbook, simulator, created + """
    - name: Update from the cache
      creatio.oauth.creatio_oauth_client:
        name: Cached only
        application_url: https://cached.example.com/v2
        redirect_urls: [https://cached.example.com/cb, https://cached.example.com/cb2]

    - name: Again
      creatio.oauth.creatio_oauth_client:
        name: Cached only
        application_url: https://cached.example.com/v2
        redirect_urls: [https://cached.example.com/cb2, https://cached.example.com/cb]
""")
    assert second.rc == 0, second
    assert second.statuses() == [('Create', 'ok'), ('Update from the cache', 'changed'), ('Again', 'ok')]
    create = second.task_result('Create')
    assert create['source'] == 'cache' and create['operations'] == []
    assert any('OData' in w and 'facts cache' in w for w in warnings_of(create)), create
    assert 'client_secret' not in create
    # the only writes are those of the update, aimed at the client id from the cache
    assert endpoints(log, 'write') == ['UpdateClient', 'AddRedirectUrls'], log
    assert [e['status'] for e in log if e['endpoint'] == 'OData'] == [403, 403, 403]
    client = server_client(simulator, 'Cached only')
    assert client['applicationUrl'] == 'https://cached.example.com/v2'
    assert sorted(server_urls(client)) == ['https://cached.example.com/cb', 'https://cached.example.com/cb2']
    assert cache_urls(cache_clients(cache_path, simulator)['Cached only']) == server_urls(client)
    assert count(simulator.log(), 'AddClient') == 1

    # issue 14, defect 5: OData refused and an empty cache: nothing can tell whether they exist, so
    # nothing is created blind (it used to create both a second time, with only a warning)
    remove_cache(cache_path)
    third, log = _run(run_playbook, simulator, created, env={'CREATIO_CACHE_PATH': cache_path})
    assert third.rc == 2 and writes(log) == [], log
    refused = third.task_result('Create')
    assert refused['error']['option'] == 'create_when_unreadable' and 'Access to OData' in msg_of(refused), refused
    assert len(server_clients(simulator)['Cached only']) == 1
    # the explicit way, after the user checked Creatio: it creates (a second one: exactly what was said)
    fourth, log = _run(run_playbook, simulator, created.replace('redirect_urls: [https://cached.example.com/cb]',
                                                                'redirect_urls: [https://cached.example.com/cb]\n'
                                                                '        create_when_unreadable: true'))
    assert fourth.rc == 0 and endpoints(log, 'write') == ['AddClient', 'AddRedirectUrls'], log
    assert len(server_clients(simulator)['Cached only']) == 2


def test_twenty_parallel_runs_share_one_cache(simulator, run_playbook, cache_path):
    hosts = ['host%02d ansible_connection=local ansible_python_interpreter=%s\n' % (i, sys.executable) for i in range(20)]
    inventory = '[creatio]\n' + ''.join(hosts)
    result, log = _run(run_playbook, simulator, """
- name: Twenty hosts at once
  hosts: creatio
  gather_facts: false
  strategy: free
  tasks:
    - name: One integration per host
      creatio.oauth.creatio_oauth_client:
        name: "Parallel {{ inventory_hostname }}"
        grant_type: client_credentials
        application_url: "https://{{ inventory_hostname }}.example.com"
        system_user_id: %s
      no_log: true
""" % POWERBI_USER_ID, inventory=inventory, env={'ANSIBLE_FORKS': '20'})
    assert result.rc == 0, result
    names = ['Parallel host%02d' % i for i in range(20)]
    assert sorted(r['host'] for r in result.task('One integration per host') if r['status'] == 'changed') == \
        ['host%02d' % i for i in range(20)]
    assert count(log, 'AddClient') == 20
    assert endpoints(log, 'write') == ['AddClient'] * 20
    on_server = server_clients(simulator)
    cached = cache_clients(cache_path, simulator)
    assert sorted(cached) == names
    for name in names:
        assert len(on_server[name]) == 1, name
        assert cached[name]['client_id'] == on_server[name][0]['clientId']
    assert len(set(r['client_id'] for r in cached.values())) == 20

    # the same name from twenty hosts at once: created once
    result, log = _run(run_playbook, simulator, """
- name: Twenty hosts, one name
  hosts: creatio
  gather_facts: false
  tasks:
    - name: Shared integration
      creatio.oauth.creatio_oauth_client:
        name: Shared
        grant_type: client_credentials
        application_url: https://shared.example.com
        system_user_id: %s
      no_log: true
""" % POWERBI_USER_ID, inventory=inventory, env={'ANSIBLE_FORKS': '20'})
    assert result.rc == 0, result
    assert [r['status'] for r in result.task('Shared integration')].count('changed') == 1
    assert [r['status'] for r in result.task('Shared integration')].count('ok') == 19
    assert endpoints(log, 'write') == ['AddClient']
    assert len(server_clients(simulator)['Shared']) == 1
    assert sorted(cache_clients(cache_path, simulator)) == sorted(names + ['Shared'])


BAD_INPUTS = [
    # (task name, module arguments, option the message must name, text the message must contain)
    ('Missing name', {'grant_type': 'client_credentials'}, 'name', 'name'),
    ('Unknown grant type', {'name': 'X', 'grant_type': 'password', 'application_url': 'https://x.example.com'},
     'grant_type', 'grant_type'),
    ('System user not a GUID', {'name': 'X', 'grant_type': 'client_credentials', 'application_url': 'https://x.example.com',
                                'system_user_id': 'PowerBIUser'}, 'system_user_id', 'GUID'),
    ('Redirect URL with a fragment', {'name': 'X', 'grant_type': 'authorization_code', 'application_url': 'https://x.example.com',
                                      'redirect_urls': ['https://x.example.com/cb#frag']}, 'redirect_urls', 'fragment'),
    ('Redirect URLs with client credentials', {'name': 'X', 'grant_type': 'client_credentials',
                                               'application_url': 'https://x.example.com', 'system_user_id': POWERBI_USER_ID,
                                               'redirect_urls': ['https://x.example.com/cb']}, 'redirect_urls', 'authorization_code'),
    ('Empty redirect URLs', {'name': 'X', 'grant_type': 'authorization_code', 'application_url': 'https://x.example.com',
                             'redirect_urls': []}, 'redirect_urls', 'empty'),
    ('Both login methods', {'name': 'X', 'creatio_client_id': AUTOMATION_CLIENT_ID,
                            'creatio_client_secret': AUTOMATION_CLIENT_SECRET}, 'creatio_username', 'creatio_client_id'),
    ('Half a login pair', {'name': 'X', 'creatio_password': ''}, 'creatio_password', 'creatio_password'),
    ('Site URL under /0/', {'name': 'X', 'creatio_url': 'http://127.0.0.1:1/0/Nui/ViewModule.aspx'}, 'creatio_url', '/0'),
    ('Relative application URL', {'name': 'X', 'grant_type': 'client_credentials', 'application_url': 'app.example.com',
                                  'system_user_id': POWERBI_USER_ID}, 'application_url', 'application_url'),
]


def test_bad_input_fails_before_any_request(simulator, run_playbook):
    tasks = []
    for title, args, _option, _text in BAD_INPUTS:
        tasks.append('    - name: %s\n      creatio.oauth.creatio_oauth_client: %s\n      ignore_errors: true  # noqa: ignore-errors\n'
                     % (title, json.dumps(args)))
    result = run_playbook(play('\n'.join(tasks)))
    assert result.rc == 0, result
    assert result.statuses() == [(title, 'failed') for title, _a, _o, _t in BAD_INPUTS], result
    for title, _args, option, text in BAD_INPUTS:
        res = result.task_result(title)
        message = msg_of(res)
        assert option in message, (title, message)
        assert text in message, (title, message)
        if 'error' in res:  # the collection's own validation (not AnsibleModule's) also names the option
            assert res['error']['option'] == option, (title, res)
        assert AUTOMATION_CLIENT_SECRET not in json.dumps(res)
    assert simulator.log() == []  # not even a login
    assert len(simulator.state()['clients']) == 1


def test_no_secret_in_verbose_output_cache_or_sessions(simulator, run_playbook, cache_path, tmp_path):
    """OAuth login (so that the login secret is a distinct string); one create without no_log."""
    hidden_file = str(tmp_path / 'hidden.json')
    env = {'CREATIO_USERNAME': None, 'CREATIO_PASSWORD': None, 'CREATIO_CLIENT_ID': AUTOMATION_CLIENT_ID,
           'CREATIO_CLIENT_SECRET': AUTOMATION_CLIENT_SECRET, 'CREATIO_IDENTITY_URL': simulator.identity_url}
    result = run_playbook(play("""
    - name: Create visibly
      creatio.oauth.creatio_oauth_client:
        name: Visible
        grant_type: client_credentials
        application_url: https://visible.example.com
        system_user_id: %(user)s
      register: visible

    - name: Create hidden
      creatio.oauth.creatio_oauth_client:
        name: Hidden
        grant_type: authorization_code
        application_url: https://hidden.example.com
        redirect_urls: [https://hidden.example.com/cb]
        client_secret_file: "{{ hidden_file }}"
      no_log: true
      register: hidden

    - name: Re-run visibly
      creatio.oauth.creatio_oauth_client:
        name: Visible
        grant_type: client_credentials
        application_url: https://visible.example.com/changed
        system_user_id: %(user)s

    - name: Re-run hidden
      creatio.oauth.creatio_oauth_client:
        name: Hidden
        grant_type: authorization_code
        application_url: https://hidden.example.com
        redirect_urls: [https://hidden.example.com/cb, https://hidden.example.com/cb2]

    - name: Info
      creatio.oauth.creatio_oauth_client_info:

    - name: Failing call
      creatio.oauth.creatio_oauth_client:
        name: Visible
        system_user_id: 00000000-0000-0000-0000-00000000dead
      ignore_errors: true  # noqa: ignore-errors
""" % {'user': POWERBI_USER_ID}), extra_vars={'hidden_file': hidden_file}, verbosity=3, diff=True, env=env)
    assert result.rc == 0, result
    assert result.statuses() == [('Create visibly', 'changed'), ('Create hidden', 'changed'), ('Re-run visibly', 'changed'),
                                 ('Re-run hidden', 'changed'), ('Info', 'ok'), ('Failing call', 'failed')]
    log = simulator.log()
    assert 'Login' not in endpoints(log) and count(log, 'Token') >= 1
    assert all(e['auth'] == 'bearer' for e in log if e['kind'] in ('write', 'read'))
    assert endpoints(log, 'write') == ['AddClient', 'AddClient', 'AddRedirectUrls', 'UpdateClient', 'AddRedirectUrls',
                                       'UpdateClient']

    visible = result.task_result('Create visibly')['client_secret']
    assert isinstance(visible, str) and len(visible) >= 20
    hidden = read_json(hidden_file)['client_secret']
    assert len(hidden) >= 20
    assert 'censored' in result.task_result('Create hidden')
    cache_text = helpers_cache_text(cache_path)
    sessions_text = file_text(sessions_path(cache_path))
    token = read_json(sessions_path(cache_path))['sessions']
    tokens = [entry['token'] for entry in token.values() if entry.get('token')]
    assert tokens and all(len(t) >= 20 for t in tokens)

    output = result.stdout + result.stderr
    # the login secret and the access token: nowhere
    for text in [AUTOMATION_CLIENT_SECRET] + tokens:
        assert text not in output
        assert text not in json.dumps(result.results)
        assert text not in cache_text
    assert AUTOMATION_CLIENT_SECRET not in sessions_text
    # the hidden task's secret: nowhere but in the file it asked for
    assert hidden not in output and hidden not in json.dumps(result.results)
    assert hidden not in cache_text and hidden not in sessions_text
    # the visible secret: only in the creating task's documented return value
    assert visible not in cache_text and visible not in sessions_text
    for line in output.splitlines():
        if visible in line:
            assert re.match(r'^\s*"client_secret": "%s",?$' % re.escape(visible), line), line
    assert output.count(visible) == 1, output
    for record in result.results:
        if record['task'] != 'Create visibly':
            assert visible not in json.dumps(record), record
    created = result.task_result('Create visibly')
    without = dict((k, v) for k, v in created.items() if k != 'client_secret')
    assert visible not in json.dumps(without)
    # the failure is reported clearly, and the diff of the re-runs shows the fields, never a secret
    assert 'system user' in msg_of(result.task_result('Failing call')).lower()
    rerun = result.task_result('Re-run visibly')
    assert rerun['diff']['before']['application_url'] == 'https://visible.example.com'
    assert rerun['diff']['after']['application_url'] == 'https://visible.example.com/changed'
    clients = result.task_result('Info')['clients']
    assert {c['name'] for c in clients} == {'Ansible automation', 'Visible', 'Hidden'}
    assert all('secret' not in key for c in clients for key in c)


def test_a_stored_session_never_outlives_a_wrong_password_or_secret(simulator, run_playbook, cache_path):
    """Issue 14, defect 3: the session (or token) of a good run is reused only with the credential it
    was obtained with; a wrong one logs in again, and fails as a wrong one should."""
    lookup = play("""
    - name: Read the integrations
      creatio.oauth.creatio_oauth_client_info:
""")
    good, log = _run(run_playbook, simulator, lookup)
    assert good.rc == 0 and count(log, 'Login') == 1, good
    again, log = _run(run_playbook, simulator, lookup)
    assert again.rc == 0 and count(log, 'Login') == 0  # the same password: the session is reused
    wrong, log = _run(run_playbook, simulator, lookup, env={'CREATIO_PASSWORD': 'definitely-wrong'})
    assert wrong.rc == 2, wrong
    assert [(e['endpoint'], e['status']) for e in log] == [('Login', 200)]  # Code 1: refused, and nothing else sent
    assert 'refused the login' in msg_of(wrong.task_result('Read the integrations'))
    assert 'definitely-wrong' not in wrong.output

    # the same for an OAuth client secret while the token of a good run still lives
    oauth = {'CREATIO_USERNAME': None, 'CREATIO_PASSWORD': None, 'CREATIO_CLIENT_ID': AUTOMATION_CLIENT_ID,
             'CREATIO_CLIENT_SECRET': AUTOMATION_CLIENT_SECRET, 'CREATIO_IDENTITY_URL': simulator.identity_url}
    good, log = _run(run_playbook, simulator, lookup, env=oauth)
    assert good.rc == 0 and count(log, 'Token') == 1, good
    reused, log = _run(run_playbook, simulator, lookup, env=oauth)
    assert reused.rc == 0 and count(log, 'Token') == 0
    wrong, log = _run(run_playbook, simulator, lookup, env=dict(oauth, CREATIO_CLIENT_SECRET='not-the-secret'))
    assert wrong.rc == 2, wrong
    assert [(e['endpoint'], e['status']) for e in log] == [('Token', 400)]
    assert 'not-the-secret' not in wrong.output
    assert 'not-the-secret' not in file_text(sessions_path(cache_path))
