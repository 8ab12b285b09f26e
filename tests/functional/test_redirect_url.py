# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""End-to-end tests of creatio.oauth.creatio_redirect_url against the simulator: request log,
simulator state and the facts cache shared with creatio_oauth_client."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from helpers import (  # pylint: disable=import-error
    POWERBI_USER_ID, add_redirect_urls_directly, cache_clients, cache_urls, endpoints, msg_of, play, remove_cache,
    server_client, server_urls, writes)

CLIENT = 'Outlook add-in'
BASE = 'https://app.example.com/base'
A, B, C, D = ('https://a.example.com/cb', 'https://b.example.com/cb', 'com.example.app:/callback',
              'http://127.0.0.1:8400/native')
B2 = 'https://b2.example.com/cb'
HINT = 'Id column of "Authorized redirect URIs"'


def _run(run_playbook, sim, playbook, **kwargs):
    mark = len(sim.log())
    result = run_playbook(playbook, **kwargs)
    return result, sim.log()[mark:]


def _check_then_apply(run_playbook, sim, playbook, **kwargs):
    """Check mode, then the real run: the check run writes nothing and predicts the real run's
    statuses and calls. Returns (real result, real run's log)."""
    check, check_log = _run(run_playbook, sim, playbook, check=True, **kwargs)
    assert check.rc == 0, check
    assert writes(check_log) == [], check_log
    real, real_log = _run(run_playbook, sim, playbook, **kwargs)
    assert real.rc == 0, real
    assert check.statuses() == real.statuses(), (check.statuses(), real.statuses())
    for predicted, done in zip(check.results, real.results):
        assert [op['call'] for op in predicted['result'].get('operations', [])] == \
            [op['call'] for op in done['result'].get('operations', [])], (predicted, done)
    return real, real_log


def _urls(sim):
    return server_urls(server_client(sim, CLIENT))


def test_add_remove_purge_update_and_check_mode(simulator, run_playbook, cache_path):
    setup, log = _run(run_playbook, simulator, play("""
    - name: The integration
      creatio.oauth.creatio_oauth_client:
        name: Outlook add-in
        grant_type: authorization_code
        application_url: https://outlook.office.com
        redirect_urls: [https://app.example.com/base]
"""))
    assert setup.rc == 0, setup
    assert endpoints(log, 'write') == ['AddClient', 'AddRedirectUrls']

    # add three: one AddRedirectUrls call (check mode predicted it, wrote nothing)
    real, log = _check_then_apply(run_playbook, simulator, play("""
    - name: Add three
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls:
          - https://a.example.com/cb
          - https://B.EXAMPLE.com/cb
          - com.example.app:/callback
          - https://a.example.com/cb
"""))
    assert real.statuses() == [('Add three', 'changed')]
    assert endpoints(log, 'write') == ['AddRedirectUrls'], log
    added = real.task_result('Add three')
    assert added['added'] == [A, B, C]
    urls = _urls(simulator)
    assert sorted(urls) == sorted([BASE, A, B, C])
    assert dict((r['url'], r['id']) for r in added['redirect_urls']) == urls
    assert cache_urls(cache_clients(cache_path, simulator)[CLIENT]) == urls

    # re-add (any order): nothing; absent of one: one DeleteRedirectUrl with its id
    real, log = _check_then_apply(run_playbook, simulator, play("""
    - name: Add three again
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: [com.example.app:/callback, https://a.example.com/cb, https://b.example.com/cb]

    - name: Remove one
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: [https://a.example.com/cb]
        state: absent
"""))
    assert real.statuses() == [('Add three again', 'ok'), ('Remove one', 'changed')]
    assert endpoints(log, 'write') == ['DeleteRedirectUrl'], log
    assert real.task_result('Remove one')['removed'] == [urls[A]]
    assert sorted(_urls(simulator)) == sorted([BASE, B, C])

    # purge: adds the new one first, then removes exactly the unlisted ones (with diff)
    real, log = _check_then_apply(run_playbook, simulator, play("""
    - name: Purge
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: [https://b.example.com/cb, "http://127.0.0.1:8400/native"]
        purge: true
"""), diff=True)
    assert real.statuses() == [('Purge', 'changed')]
    assert endpoints(log, 'write') == ['AddRedirectUrls', 'DeleteRedirectUrl', 'DeleteRedirectUrl'], log
    purge = real.task_result('Purge')
    assert purge['added'] == [D]
    assert sorted(purge['removed']) == sorted([urls[BASE], urls[C]])
    assert purge['diff']['before']['redirect_urls'] == sorted([BASE, B, C])
    assert purge['diff']['after']['redirect_urls'] == sorted([B, D])
    urls = _urls(simulator)
    assert sorted(urls) == sorted([B, D])
    assert cache_urls(cache_clients(cache_path, simulator)[CLIENT]) == urls

    # update by id (one UpdateRedirectUrl, same id; then nothing), and consistency with
    # creatio_oauth_client through the one cache
    b_id = urls[B]
    last, log = _run(run_playbook, simulator, play("""
    - name: Update by id
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_url_id: "{{ b_id | upper }}"
        redirect_url: https://b2.example.com/cb

    - name: Update by id again
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_url_id: "{{ b_id }}"
        redirect_url: https://b2.example.com/cb

    - name: Client module sees the same list
      creatio.oauth.creatio_oauth_client:
        name: Outlook add-in
        redirect_urls: ["http://127.0.0.1:8400/native", https://b2.example.com/cb]
        purge_redirect_urls: true

    - name: Client module removes one by the id this module cached
      creatio.oauth.creatio_oauth_client:
        name: Outlook add-in
        redirect_urls: [https://b2.example.com/cb]

    - name: And this module agrees it is gone
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: ["http://127.0.0.1:8400/native"]
        state: absent
"""), extra_vars={'b_id': b_id})
    assert last.rc == 0, last
    assert last.statuses() == [('Update by id', 'changed'), ('Update by id again', 'ok'), ('Client module sees the same list', 'ok'),
                               ('Client module removes one by the id this module cached', 'changed'),
                               ('And this module agrees it is gone', 'ok')]
    assert endpoints(log, 'write') == ['UpdateRedirectUrl', 'DeleteRedirectUrl'], log
    assert last.task_result('Update by id')['updated'] == [b_id]
    assert last.task_result('Update by id again')['updated'] == []
    seen = last.task_result('Client module sees the same list')['client']['redirect_urls']
    assert dict((r['url'], r['id']) for r in seen) == {B2: b_id, D: urls[D]}
    removal = last.task_result('Client module removes one by the id this module cached')['operations']
    assert [(op['call'], op['request']) for op in removal] == [('DeleteRedirectUrl', {'redirectUrlId': urls[D]})]
    assert _urls(simulator) == {B2: b_id}  # updated in place: same id, new value
    assert cache_urls(cache_clients(cache_path, simulator)[CLIENT]) == {B2: b_id}


def test_bad_input_and_client_credentials_fail_without_any_request(simulator, run_playbook):
    setup = run_playbook(play("""
    - name: A server-to-server integration
      creatio.oauth.creatio_oauth_client:
        name: Server app
        grant_type: client_credentials
        application_url: https://server.example.com
        system_user_id: %s
      no_log: true
""" % POWERBI_USER_ID))
    assert setup.rc == 0, setup
    simulator.clear_log()

    cases = [
        # (task name, module arguments, option the message names, text in the message)
        ('Client credentials integration', {'client_name': 'Server app', 'redirect_urls': [A]}, 'client_credentials',
         'authorization_code'),
        ('Relative URI', {'client_name': CLIENT, 'redirect_urls': ['/callback']}, 'redirect_urls', 'absolute'),
        ('Fragment', {'client_name': CLIENT, 'redirect_urls': [A + '#top']}, 'redirect_urls', 'fragment'),
        ('Empty string', {'client_name': CLIENT, 'redirect_urls': [A, '']}, 'redirect_urls', 'empty'),
        ('Spaces', {'client_name': CLIENT, 'redirect_urls': ['https://x.example.com/a b']}, 'redirect_urls', 'white space'),
        ('Not a string', {'client_name': CLIENT, 'redirect_urls': [{'url': A}]}, 'redirect_urls', 'redirect_urls'),
        ('Dangerous scheme', {'client_name': CLIENT, 'redirect_urls': ['javascript:alert(1)']}, 'redirect_urls', 'scheme'),
        ('Id not a GUID', {'client_name': CLIENT, 'redirect_url_id': '42', 'state': 'absent'}, 'redirect_url_id', 'GUID'),
        ('Bad new value', {'client_name': CLIENT, 'redirect_url_id': '9b2f4c3e-1a2b-4c5d-8e9f-0a1b2c3d4e5f',
                           'redirect_url': 'not a url'}, 'redirect_url', 'redirect_url'),
        ('Nothing to do', {'client_name': CLIENT}, 'redirect_urls', 'redirect_urls'),
        ('Both client name and id', {'client_name': CLIENT, 'client_id': 'abc', 'redirect_urls': [A]}, 'client_name',
         'client_id'),
    ]
    tasks = ''.join('    - name: %s\n      creatio.oauth.creatio_redirect_url: %s\n      ignore_errors: true  # noqa: ignore-errors\n'
                    % (title, json.dumps(args)) for title, args, _o, _t in cases)
    result = run_playbook(play(tasks))
    assert result.rc == 0, result
    assert result.statuses() == [(title, 'failed') for title, _a, _o, _t in cases], result
    for title, _args, option, text in cases:
        message = msg_of(result.task_result(title))
        assert option in message and text in message, (title, message)
    cc = result.task_result('Client credentials integration')
    assert "'Server app'" in msg_of(cc) and cc['error']['option'] == 'client_name'
    assert simulator.log() == []  # not even a login


def test_unknown_ids_removed_by_value_fail_and_by_id_work(simulator, run_playbook, cache_path):
    setup = run_playbook(play("""
    - name: The integration
      creatio.oauth.creatio_oauth_client:
        name: Outlook add-in
        grant_type: authorization_code
        application_url: https://outlook.office.com
        redirect_urls: [https://app.example.com/base]

    - name: One more URI
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: [https://a.example.com/cb]
"""))
    assert setup.rc == 0, setup
    client_id = server_client(simulator, CLIENT)['clientId']
    # a URI added on the integration page, and a facts cache that was lost
    behind = add_redirect_urls_directly(simulator, client_id, ['https://hand.example.com/cb'])
    hand_id = behind['https://hand.example.com/cb']
    remove_cache(cache_path)
    before = _urls(simulator)
    # a site that does not let the redirect-URI entity be read: the ids are known nowhere
    simulator.configure(redirect_entity='hidden', authorize_endpoint='off')  # no evidence at all (with it: test_redirect_evidence.py)

    result, log = _run(run_playbook, simulator, play("""
    - name: Remove a URI a lost cache had added
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: [https://a.example.com/cb]
        state: absent
      ignore_errors: true  # noqa: ignore-errors

    - name: Remove a URI added by hand
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: [https://hand.example.com/cb]
        state: absent
      ignore_errors: true  # noqa: ignore-errors
"""))
    assert result.rc == 0, result
    assert result.statuses() == [('Remove a URI a lost cache had added', 'failed'),
                                 ('Remove a URI added by hand', 'failed')], result
    for task, uri in (('Remove a URI a lost cache had added', A), ('Remove a URI added by hand', 'https://hand.example.com/cb')):
        res = result.task_result(task)
        assert uri in msg_of(res) and HINT in msg_of(res), (task, res)
        assert res['changed'] is False and not res.get('operations')
    assert writes(log) == [], log
    assert _urls(simulator) == before

    # by id (copied from the integration page): removed, and removing it again is not a change
    result, log = _run(run_playbook, simulator, play("""
    - name: Remove by id
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_url_id: "{{ hand_id }}"
        state: absent

    - name: Remove by id again
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_url_id: "{{ hand_id }}"
        state: absent

    - name: Still no removal by value of an unknown id
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: [https://a.example.com/cb]
        state: absent
      ignore_errors: true  # noqa: ignore-errors

    - name: Purge what cannot be identified
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: [https://new.example.com/cb]
        purge: true
      ignore_errors: true  # noqa: ignore-errors
"""), extra_vars={'hand_id': hand_id})
    assert result.rc == 0, result
    assert result.statuses() == [('Remove by id', 'changed'), ('Remove by id again', 'ok'),
                                 ('Still no removal by value of an unknown id', 'failed'),
                                 ('Purge what cannot be identified', 'failed')], result
    assert endpoints(log, 'write') == ['DeleteRedirectUrl', 'DeleteRedirectUrl'], log
    assert result.task_result('Remove by id')['removed'] == [hand_id]
    assert result.task_result('Remove by id again')['removed'] == []
    assert HINT in msg_of(result.task_result('Still no removal by value of an unknown id'))
    purge = result.task_result('Purge what cannot be identified')
    assert 'purge needs the redirect URI list' in msg_of(purge) and HINT in msg_of(purge), purge
    after = _urls(simulator)
    assert hand_id not in after.values()
    assert sorted(after) == sorted([BASE, A])


def test_where_the_site_lists_redirect_uris_a_lost_cache_removes_by_value(simulator, run_playbook, cache_path):
    """Issue 14: the redirect URIs of an integration the cache does not know are read from the site
    (the entity found in $metadata), with their ids, instead of guessed."""
    setup = run_playbook(play("""
    - name: The integration
      creatio.oauth.creatio_oauth_client:
        name: Outlook add-in
        grant_type: authorization_code
        application_url: https://outlook.office.com
        redirect_urls: [https://app.example.com/base, https://a.example.com/cb]
"""))
    assert setup.rc == 0, setup
    client_id = server_client(simulator, CLIENT)['clientId']
    hand_id = add_redirect_urls_directly(simulator, client_id, ['https://hand.example.com/cb'])['https://hand.example.com/cb']
    remove_cache(cache_path)
    result, log = _run(run_playbook, simulator, play("""
    - name: Remove two URIs by value
      creatio.oauth.creatio_redirect_url:
        client_name: Outlook add-in
        redirect_urls: [https://a.example.com/cb, https://hand.example.com/cb]
        state: absent
"""))
    assert result.rc == 0, result
    res = result.task_result('Remove two URIs by value')
    assert hand_id in res['removed'] and len(set(res['removed'])) == 2, res
    assert 'unconfirmed_redirect_urls' not in res
    assert endpoints(log, 'write') == ['DeleteRedirectUrl', 'DeleteRedirectUrl'], log
    assert sorted(_urls(simulator)) == ['https://app.example.com/base']
    assert 'RedirectUrlEntity' in endpoints(log)
