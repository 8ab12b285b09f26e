# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets: every run of this suite is scanned (reliability_lib.Reliability.scan: -vvv stdout and
stderr, the ansible log file, the recorded results with their diffs, the facts cache, and
sessions.json for passwords and client secrets) for every password and client secret in play, every
client secret the simulator ever issued (also those whose answer was lost), and every session
cookie, CSRF token and access token. Only the documented client_secret return value of a creating
task without no_log may hold a client secret.

This file adds the runs that the other tests do not make: refused logins with wrong credentials, a
secret file, a creating task under no_log, check mode with diff, the info module, the role with its
secrets folder and token check, and a lost AddClient answer (a secret Creatio made that nobody saw).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat

import pytest

import reliability_lib as lib  # pylint: disable=import-error

WRONG_PASSWORD = 'Rel-wrong-pa55"word'
WRONG_CLIENT_SECRET = 'Rel-wrong-client-secret'
# What JSON escapes (a quote, a backslash, non-ASCII) and what URL and form encoding change (+ / = &).
ECHOED_PASSWORD = u'Rel-\u00e9cho"pa\\ss+/=&w0rd'
ECHOED_CLIENT_SECRET = u'Rel-\u00e9cho+client/secret=&"x'
HEADER = """
- name: Secrets
  hosts: localhost
  gather_facts: false
  tasks:
"""
CREATE = """
    - name: Create with a secret file
      creatio.oauth.creatio_oauth_client:
        name: Secret file app
        grant_type: client_credentials
        application_url: https://secret.example.com
        system_user_id: %(user)s
        client_secret_file: "{{ secret_file }}"
      no_log: false

    - name: Create under no_log
      creatio.oauth.creatio_oauth_client:
        name: Hidden app
        grant_type: authorization_code
        application_url: https://hidden.example.com
        redirect_urls:
          - https://hidden.example.com/cb
      no_log: true

    - name: List everything
      creatio.oauth.creatio_oauth_client_info:
""" % {'user': lib.POWERBI_USER_ID}
CHANGE = """
    - name: Change in check mode with a diff
      creatio.oauth.creatio_oauth_client:
        name: Secret file app
        application_url: https://secret2.example.com
        system_user_id: %(other)s
        active: false
      check_mode: true
      diff: true

    - name: Redirect URIs in check mode with a diff
      creatio.oauth.creatio_redirect_url:
        client_name: Hidden app
        redirect_urls:
          - https://hidden.example.com/other
      check_mode: true
      diff: true
""" % {'other': lib.WEBHOOK_USER_ID}
LOST = """
    - name: Create while the answer is lost
      creatio.oauth.creatio_oauth_client:
        name: Lost answer app
        grant_type: client_credentials
        application_url: https://lost.example.com
        system_user_id: %(user)s
""" % {'user': lib.POWERBI_USER_ID}


def test_refused_logins_do_not_echo_the_credentials(rel):
    rel.extra_secrets = {'wrong password': WRONG_PASSWORD, 'wrong client secret': WRONG_CLIENT_SECRET}
    with rel.row('secrets', 'wrong password (login refused)', 'Login', injected=1, order=1) as row:
        result = rel.run(HEADER + LOST, env={'CREATIO_PASSWORD': WRONG_PASSWORD})
        _task, msg, error_type = lib.failure_of(result)
        assert error_type == 'AuthenticationError' and 'Supervisor' in msg, msg
        row['outcome'] = 'failed: %s' % lib.short(msg)
        row['check'] = 'ok: the password is in no output, log, result or file'
    with rel.row('secrets', 'wrong client secret (token refused)', 'Token', injected=1, order=2) as row:
        result = rel.run(HEADER + LOST, login='oauth', env={'CREATIO_CLIENT_SECRET': WRONG_CLIENT_SECRET})
        _task, msg, error_type = lib.failure_of(result)
        assert error_type == 'AuthenticationError' and 'invalid_client' in msg, msg
        row['outcome'] = 'failed: %s' % lib.short(msg)
        row['check'] = 'ok: the client secret is in no output, log, result or file'
    assert not lib.sim_clients(rel.sim)


def test_secrets_reach_only_the_return_value_and_the_secret_file(rel, tmp_path):
    secret_file = str(tmp_path / 'secret-file-app.json')
    with rel.row('secrets', 'secret file, no_log, info, check mode + diff', 'AddClient, OData', injected=0, order=3) as row:
        created = rel.run(HEADER + CREATE, extra_vars={'secret_file': secret_file})
        assert created.rc == 0, created
        returned = created.task_result('Create with a secret file')['client_secret']
        with open(secret_file) as handle:
            document = json.load(handle)
        assert document['client_secret'] == returned
        assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
        hidden = created.task_result('Create under no_log')
        assert 'client_secret' not in json.dumps(hidden), hidden
        # the secret of the no_log creation exists on the server, and was in no output (scanned)
        assert len(rel.known_secrets()[0]) >= 4
        before = len(rel.sim.log())
        changed = rel.run(HEADER + CHANGE)
        assert changed.rc == 0 and len(changed.changed_tasks()) == 2, changed
        assert not [e for e in rel.sim.log()[before:] if e['kind'] == 'write'], 'check mode wrote'
        diff = changed.task_result('Change in check mode with a diff')['diff']
        assert diff['before']['active'] is True and diff['after']['active'] is False, diff
        row['outcome'] = 'secret returned once (documented) and written to a 0600 file; no_log creation silent; diffs clean'
        row['check'] = 'ok: %d runs scanned' % rel.scanned

    with rel.row('secrets', 'lost AddClient answer (a secret nobody saw)', 'AddClient', injected=1, order=4) as row:
        rel.sim.configure(faults=[{'endpoint': 'AddClient', 'drop': True, 'phase': 'after', 'count': 1}])
        lost = rel.run(HEADER + LOST)
        assert lost.rc != 0, lost
        lost_ids = [c['clientId'] for c in lib.sim_clients(rel.sim)['Lost answer app']]
        assert all(i in rel.sim.issued_secrets()['client_secrets'] for i in lost_ids)
        row['outcome'] = 'failed as documented; the lost secret is in no output'
        row['check'] = 'ok: scanned for the secret the simulator issued'


def test_role_with_secrets_folder_and_token_check_keeps_secrets_in_files(rel, tmp_path):
    bootstrap = os.path.join(lib.ROOT, 'playbooks', 'bootstrap.yml')
    secrets_dir = tmp_path / 'secrets'
    items = [{'name': 'Role PowerBI', 'preset': 'powerbi', 'system_user_id': lib.POWERBI_USER_ID},
             {'name': 'Role Outlook', 'preset': 'outlook_addin', 'redirect_urls': ['https://addin.example.com/cb']}]
    extra = {'creatio_integrations': items, 'creatio_integrations_secrets_dir': str(secrets_dir),
             'creatio_integrations_verify': True}
    with rel.row('secrets', 'role with a secrets folder and the token check', 'bootstrap.yml', injected=0, order=5) as row:
        result = rel.run(bootstrap, extra_vars=extra, env={'CREATIO_IDENTITY_URL': rel.sim.identity_url})
        assert result.rc == 0, result
        files = sorted(os.listdir(str(secrets_dir)))
        assert len(files) == 2, files
        issued = [e for e in rel.sim.log() if e['endpoint'] == 'Token' and e['status'] == 200]
        assert issued, 'the token check did not ask the identity service'
        row['outcome'] = '2 created, %d secret files (0600), token check ok' % len(files)
        row['check'] = 'ok: the secrets are only in their files'


def test_credentials_echoed_escaped_or_encoded_are_scrubbed(rel):
    """Creatio echoes the password it refused JSON-escaped, percent-encoded and form-encoded inside its
    message; the identity service echoes the client secret likewise (simulator switch echo_credentials).
    Every form is scrubbed: the scan looks for each."""
    rel.extra_secrets = {'echoed password': ECHOED_PASSWORD, 'echoed client secret': ECHOED_CLIENT_SECRET}
    rel.sim.configure(echo_credentials=True)
    try:
        with rel.row('secrets', 'password echoed escaped and encoded', 'Login', injected=1, order=3) as row:
            result = rel.run(HEADER + LOST, env={'CREATIO_PASSWORD': ECHOED_PASSWORD})
            _task, msg, error_type = lib.failure_of(result)
            assert error_type == 'AuthenticationError' and '********' in msg, msg
            row['outcome'] = 'failed: %s' % lib.short(msg)
            row['check'] = 'ok: no form of the password in any output, log, result or file'
        with rel.row('secrets', 'client secret echoed escaped and encoded', 'Token', injected=1, order=4) as row:
            result = rel.run(HEADER + LOST, login='oauth', env={'CREATIO_CLIENT_SECRET': ECHOED_CLIENT_SECRET})
            _task, msg, error_type = lib.failure_of(result)
            assert error_type == 'AuthenticationError', msg
            row['outcome'] = 'failed: %s' % lib.short(msg)
            row['check'] = 'ok: no form of the client secret in any output, log, result or file'
    finally:
        rel.sim.configure(echo_credentials=False)
    assert not lib.sim_clients(rel.sim)


def test_the_scanner_catches_a_leak(rel):
    """The scan has teeth: a task that prints the password (JSON-escaped by the callback, raw in the
    log) and a session cookie is caught."""
    leak = HEADER + """
    - name: Leak the password and a cookie on purpose
      ansible.builtin.debug:
        msg: "{{ lookup('ansible.builtin.env', 'CREATIO_PASSWORD') }} {{ lookup('ansible.builtin.file', sessions) }}"
"""
    rel.run(HEADER + LOST)  # logs in: sessions.json holds a cookie now
    sessions = os.path.join(os.path.dirname(rel.cache_path), 'sessions.json')
    result = rel.run(leak, extra_vars={'sessions': sessions}, scan=False)
    assert result.rc == 0, result
    with pytest.raises(lib.SecretLeak) as caught:
        rel.scan(result, record=False)  # the leak is on purpose: not counted in the table
    text = str(caught.value)
    assert 'admin password found' in text and 'session cookie' in text, text
