# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role creatio.oauth.integrations and the playbook creatio.oauth.bootstrap, end to end.

Real ``ansible-playbook`` runs against the simulator (see conftest.py). Assertions are on the
simulator's state and request log, on the files the role writes, and on the run's output.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import hashlib
import json
import os
import stat

import yaml

from helpers import (  # pylint: disable=import-error
    AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET, POWERBI_USER_ID, ROOT, WEBHOOK_USER_ID)

EXAMPLE = os.path.join(ROOT, 'examples', 'integrations.yml')

# The playbook users run (`ansible-playbook creatio.oauth.bootstrap`), addressed by its FQCN.
BOOTSTRAP = """
- name: The collection's bootstrap playbook
  ansible.builtin.import_playbook: creatio.oauth.bootstrap
"""

GRANTS = {'powerbi': 'client_credentials', 'webhooks': 'client_credentials', 'clio': 'client_credentials',
          'outlook_addin': 'authorization_code'}

# Task names as recorded (role tasks carry the role's name)
ROLE = 'creatio.oauth.integrations : '
APPLY = ROLE + 'Apply the integrations'
RECORD = ROLE + 'Record the result of the run'
SECRET_TASKS = ROLE + 'Hand each new client secret to creatio_integrations_secret_tasks'
SUMMARY = ROLE + 'Summary'
FINAL = ROLE + 'Check that every integration was applied and verified'
VALIDATION = ROLE + "Validating arguments against arg spec 'main' - Declare the OAuth 2.0 integrations of Creatio from presets"


def example_vars():
    with open(EXAMPLE) as handle:
        return yaml.safe_load(handle)


def writes(entries):
    return [e for e in entries if e['kind'] == 'write']


def new_clients(sim):
    return {c['name']: c for c in sim.state()['clients'] if not c.get('seeded')}


def published(result):
    return result.task_result(RECORD)['ansible_facts']['creatio_integrations_result']


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_bootstrap_check_create_rerun_and_remove(simulator, run_playbook, tmp_path, cache_path):
    """Check mode predicts, the first run creates the four presets, the second changes nothing,
    and state: absent removes exactly the one integration it names."""
    secrets_dir = tmp_path / 'vault' / 'secrets'  # neither folder exists yet
    extra = example_vars()
    extra['creatio_integrations_secrets_dir'] = str(secrets_dir)
    declared = extra['creatio_integrations']
    assert sorted(i['preset'] for i in declared) == sorted(GRANTS), 'the example must show all four presets'
    env = {'CREATIO_IDENTITY_URL': simulator.identity_url}

    # --- check mode on a fresh site: reads only, nothing created, not even the secrets folder
    check = run_playbook(BOOTSTRAP, extra_vars=extra, check=True, diff=True, env=env)
    assert check.rc == 0, check
    assert writes(simulator.log()) == [], check
    assert new_clients(simulator) == {}
    assert not (tmp_path / 'vault').exists()
    predicted = published(check)
    assert [(e['name'], e['action'], e['grant_type'], e['client_id']) for e in predicted] == [
        (i['name'], 'created', GRANTS[i['preset']], None) for i in declared]
    check_summary = check.task_result(SUMMARY)['msg']
    assert 'CHECK MODE' in check_summary[0]
    for item in declared:  # the calls a real run would make, since the no_log task shows no diff
        assert '          - create integration %s (%s)' % (item['name'], GRANTS[item['preset']]) in check_summary
    assert [e['verified'] for e in predicted] == [None] * len(declared)  # nothing was created, nothing to verify
    # the role is its argument validation and five plain tasks (the secret tasks hook skipped); one starts a module process
    assert [r['task'] for r in check.results] == [VALIDATION, APPLY, SECRET_TASKS, RECORD, SUMMARY, FINAL]

    # --- first run, at -vvv: creates exactly the declared integrations, with the presets' grants
    mark = len(simulator.log())
    first = run_playbook(BOOTSTRAP, extra_vars=extra, verbosity=3, env=env)
    assert first.rc == 0, first
    assert first.recap['localhost']['changed'] == check.recap['localhost']['changed'] > 0, (check.recap, first.recap)
    assert first.changed_tasks() == check.changed_tasks() == [APPLY]
    clients = new_clients(simulator)
    assert sorted(clients) == sorted(i['name'] for i in declared)
    assert len([c for c in simulator.state()['clients'] if not c.get('seeded')]) == len(declared)
    by_preset = {i['preset']: clients[i['name']] for i in declared}
    for preset, client in by_preset.items():
        assert client['grantType'] == GRANTS[preset], client
    assert by_preset['powerbi']['applicationUrl'] == 'https://app.powerbi.com'  # the preset's default
    assert by_preset['powerbi']['systemUserId'] == POWERBI_USER_ID
    assert by_preset['clio']['applicationUrl'] == 'https://app.clio.com'
    assert by_preset['webhooks']['applicationUrl'] == 'https://hooks.example.com'
    assert by_preset['webhooks']['systemUserId'] == WEBHOOK_USER_ID
    assert by_preset['outlook_addin']['applicationUrl'] == 'https://outlook.office.com'
    assert by_preset['outlook_addin']['systemUserId'] is None
    outlook = [i for i in declared if i['preset'] == 'outlook_addin'][0]
    assert sorted(r['redirectUrl'] for r in by_preset['outlook_addin']['redirectUrls']) == sorted(outlook['redirect_urls'])
    run_log = simulator.log()[mark:]
    assert [e['endpoint'] for e in writes(run_log)].count('AddClient') == len(declared)
    # one task for all integrations: no login of its own (the check run's session is reused), one
    # OData read for all their lookups, and one read back after each creation and one more at the end
    # (separate caches racing)
    assert [e['endpoint'] for e in run_log].count('Login') == 0
    assert [e['endpoint'] for e in run_log].count('OData') == 1 + len(declared) + 1

    # creatio_integrations_verify (true in the example): one issued token per client credentials integration
    tokens = [e for e in run_log if e['endpoint'] == 'Token']
    assert len(tokens) == 3 and all(e['status'] == 200 for e in tokens), tokens

    # the published result: no secrets, the simulator's client ids
    entries = published(first)
    assert [(e['name'], e['preset'], e['state'], e['action'], e['changed']) for e in entries] == [
        (i['name'], i['preset'], 'present', 'created', True) for i in declared]
    for entry in entries:
        assert entry['client_id'] == clients[entry['name']]['clientId']
        assert entry['verified'] is (True if entry['grant_type'] == 'client_credentials' else None)
        assert entry['secret_file'] and entry['secret_file'].startswith(str(secrets_dir) + os.sep)
    summary = first.task_result(SUMMARY)['msg']
    assert summary[0].startswith('Creatio OAuth integrations: 4 created, 0 updated, 0 unchanged, 0 removed, 0 failed')
    assert any(str(secrets_dir) in line for line in summary)

    # secrets: a 0700 folder with one 0600 file per new integration, and nowhere in the -vvv output
    assert mode_of(str(secrets_dir)) == 0o700
    files = sorted(os.listdir(str(secrets_dir)))
    assert len(files) == len(declared)
    secrets = []
    for entry in entries:
        assert os.path.basename(entry['secret_file']) in files
        assert mode_of(entry['secret_file']) == 0o600
        with open(entry['secret_file']) as handle:
            document = json.load(handle)
        assert document['name'] == entry['name']
        assert document['client_id'] == entry['client_id']
        assert document['token_url'] == simulator.identity_url + '/connect/token'
        assert len(document['client_secret']) >= 20
        secrets.append(document['client_secret'])
    assert 'ESTABLISH LOCAL CONNECTION' in first.stdout  # really -vvv
    recorded = json.dumps(first.results)
    cache_files = {}
    for folder, _dirs, names in os.walk(os.path.dirname(cache_path)):
        for name in names:
            with open(os.path.join(folder, name)) as handle:
                cache_files[name] = handle.read()
    # the facts cache (one file for the one site, in facts.sites/) and sessions.json were scanned too
    assert len([n for n in cache_files if n.endswith('.json') and n != 'sessions.json']) == 1, sorted(cache_files)
    assert 'sessions.json' in cache_files
    for secret in secrets:
        assert secret not in first.output
        assert secret not in recorded
        assert secret not in json.dumps(published(first))
        for name, text in cache_files.items():
            assert secret not in text, name
    assert 'Supervisor' not in first.output  # the password (== the user name here) is never shown

    # --- second run: zero writes, changed=0, every integration unchanged
    mark = len(simulator.log())
    second = run_playbook(BOOTSTRAP, extra_vars=extra, env=env)
    assert second.rc == 0, second
    assert second.recap['localhost']['changed'] == 0, second
    assert second.recap['localhost']['failed'] == 0
    assert writes(simulator.log()[mark:]) == []
    # the session of the first run is reused, one read confirms every integration, one more reads the
    # redirect URI rows of the authorization code ones (their entity was found in $metadata by the first run)
    assert [e['endpoint'] for e in simulator.log()[mark:]] == ['OData', 'RedirectUrlEntity'], simulator.log()[mark:]
    assert [e['action'] for e in published(second)] == ['unchanged'] * len(declared)
    assert new_clients(simulator) == clients
    assert sorted(os.listdir(str(secrets_dir))) == files

    # --- state: absent for one item removes exactly that one. The connection comes from the play's
    # module_defaults this time (no CREATIO_URL): the role's module_defaults leave it alone.
    removed = [i for i in declared if i['preset'] == 'clio'][0]['name']
    third_vars = copy.deepcopy(extra)
    for item in third_vars['creatio_integrations']:
        if item['name'] == removed:
            item['state'] = 'absent'
    mark = len(simulator.log())
    third = run_playbook("""
- name: Remove one integration
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/creatio.oauth.creatio:
      creatio_url: "%s"
  roles:
    - role: creatio.oauth.integrations
""" % simulator.url, extra_vars=third_vars, env={'CREATIO_URL': None})
    assert third.rc == 0, third
    assert third.recap['localhost']['changed'] == 1, third
    assert [e['endpoint'] for e in writes(simulator.log()[mark:])] == ['DeleteClient']
    remaining = new_clients(simulator)
    expected = dict(clients)
    del expected[removed]
    assert remaining == expected
    assert [(e['name'], e['action'], len(e['operations'])) for e in published(third)] == [
        (i['name'], 'removed', 1) if i['name'] == removed else (i['name'], 'unchanged', 0) for i in declared]


def test_each_preset_names_its_missing_keys_before_any_request(simulator, run_playbook):
    bad = [
        {'name': 'BI', 'preset': 'powerbi'},
        {'name': 'Hooks', 'preset': 'webhooks'},
        {'name': 'Clio', 'preset': 'clio', 'redirect_urls': ['https://clio.example.com/cb']},
        {'name': 'Outlook', 'preset': 'outlook_addin', 'system_user_id': POWERBI_USER_ID},
        {'name': 'Custom 1', 'preset': 'custom'},
        {'name': 'Custom 2', 'preset': 'custom', 'grant_type': 'client_credentials'},
        {'name': 'Custom 3', 'preset': 'custom', 'grant_type': 'authorization_code',
         'application_url': 'https://app.example.com', 'redirect_urls': []},
        {'name': 'BI', 'preset': 'powerbi', 'grant_type': 'authorization_code', 'system_user_id': POWERBI_USER_ID},
        {'name': 'Fine', 'preset': 'powerbi', 'system_user_id': POWERBI_USER_ID},
    ]
    result = run_playbook(BOOTSTRAP, extra_vars={'creatio_integrations': bad})
    assert result.rc == 2, result
    assert result.failed_tasks() == [FINAL]
    msg = result.task_result(FINAL)['msg']
    expected = [
        "clients[0] 'BI' (preset powerbi): system_user_id is required",
        "clients[1] 'Hooks' (preset webhooks): application_url is required",
        "clients[1] 'Hooks' (preset webhooks): system_user_id is required",
        "clients[2] 'Clio' (preset clio): system_user_id is required",
        "clients[2] 'Clio' (preset clio): redirect_urls does not apply to the client_credentials grant",
        "clients[3] 'Outlook' (preset outlook_addin): redirect_urls is required",
        # (its system_user_id is not a problem of the declaration: Creatio before 8.3 needs one, 8.3 refuses it)
        "clients[4] 'Custom 1' (preset custom): grant_type is required",
        "clients[5] 'Custom 2' (preset custom): application_url is required",
        "clients[5] 'Custom 2' (preset custom): system_user_id is required",
        "clients[6] 'Custom 3' (preset custom): redirect_urls is required",
        "clients[7] 'BI' (preset powerbi): the name is declared more than once",
        "clients[7] 'BI' (preset powerbi): grant_type is fixed to client_credentials by the preset",
    ]
    for text in expected:
        assert text in msg, (text, msg)
    assert msg.startswith('creatio_integrations: %d problem(s), nothing was sent to Creatio' % len(expected)), msg
    assert 'Fine' not in msg
    assert simulator.log() == []  # not even a login
    assert result.task(APPLY)[0]['status'] == 'failed' and published(result) == []


BAD_INPUT = {
    'not a list': ({'creatio_integrations': {'name': 'BI', 'preset': 'powerbi', 'system_user_id': POWERBI_USER_ID}},
                   "argument 'creatio_integrations' is of type dict and we were unable to convert to list"),
}


def test_a_bad_preset_is_reported_with_the_other_problems_of_the_list(simulator, run_playbook):
    bad = [{'name': 'Zapier', 'preset': 'zapier'}, {'name': 'Hooks', 'preset': 'webhooks', 'system_user_id': POWERBI_USER_ID}]
    result = run_playbook(BOOTSTRAP, extra_vars={'creatio_integrations': bad})
    assert result.rc == 2, result
    assert result.failed_tasks() == [FINAL]
    msg = result.task_result(FINAL)['msg']
    assert msg.startswith('creatio_integrations: 2 problem(s), nothing was sent to Creatio'), msg
    assert ("clients[0] 'Zapier' (preset zapier): preset must be one of powerbi, webhooks, clio, outlook_addin, custom, "
            "got 'zapier'") in msg, msg
    assert "clients[1] 'Hooks' (preset webhooks): application_url is required" in msg, msg
    assert 'argument_spec' not in msg and 'suboptions' not in msg  # not Ansible's dump of the whole spec
    assert simulator.log() == []


def test_argument_specs_reject_a_non_list(run_playbook):
    _assert_rejected_by_argument_specs(run_playbook, *BAD_INPUT['not a list'])


def _assert_rejected_by_argument_specs(run_playbook, extra_vars, message):
    result = run_playbook(BOOTSTRAP, extra_vars=extra_vars)
    assert result.rc == 2, result
    # Ansible's own validation task, before any task of the role
    assert [r['task'] for r in result.results] == [VALIDATION]
    assert result.results[0]['status'] == 'failed'
    assert message in result.results[0]['result']['msg'], result.results[0]['result']['msg']


def test_verify_fails_clearly_when_the_identity_service_is_down(simulator, run_playbook, tmp_path):
    """The identity service answers every token request with 503 (what it answers when it is
    switched off); creating integrations works (OAuthConfigService is up). Also: an existing secrets
    file is never overwritten, and the role's creatio_url wins over CREATIO_URL."""
    simulator.configure(faults=[{'endpoint': 'Token', 'status': 503, 'count': None}])
    secrets_dir = tmp_path / 'secrets'
    secrets_dir.mkdir(mode=0o700)
    existing = secrets_dir / 'Clio.json'
    existing.write_text(u'{"keep": "me"}\n')
    extra = {
        'creatio_url': simulator.url,  # the role's variable wins over the (dead) CREATIO_URL below
        'creatio_integrations_secrets_dir': str(secrets_dir),
        'creatio_integrations_verify': True,
        'creatio_integrations': [
            {'name': 'Power BI', 'preset': 'powerbi', 'system_user_id': POWERBI_USER_ID},
            {'name': 'Clio', 'preset': 'clio', 'system_user_id': WEBHOOK_USER_ID},
            {'name': 'Outlook', 'preset': 'outlook_addin', 'redirect_urls': ['https://addin.example.com/cb']},
        ],
    }
    result = run_playbook(BOOTSTRAP, extra_vars=extra,
                          env={'CREATIO_URL': 'http://127.0.0.1:9', 'CREATIO_IDENTITY_URL': simulator.identity_url})
    assert result.rc == 2, result
    assert result.failed_tasks() == [FINAL]
    msg = result.task_result(FINAL)['msg']
    # the count is the summary's "failed" (Clio); Power BI was created and got no token, and says so
    assert msg.startswith('creatio_integrations: 1 of 3 integration(s) failed: Clio: '), msg
    assert '; 1 new integration(s) got no token from the identity service: Power BI: ' in msg, msg
    assert ('No access token was issued to integration Power BI (client id %s) by %s/connect/token: the identity '
            'service is unavailable (it answered HTTP 503)'
            % (new_clients(simulator)['Power BI']['clientId'], simulator.identity_url)) in msg, msg
    assert 'Clio: client_secret_file %s already exists; it is never overwritten' % existing in msg, msg
    assert 'Outlook' not in msg  # authorization_code: no token check, and created fine

    clients = new_clients(simulator)
    assert sorted(clients) == ['Outlook', 'Power BI']  # Clio was not created: its secrets file was in the way
    assert existing.read_text() == u'{"keep": "me"}\n'
    # Power BI: not a plain name, so its file name carries a hash of the name (issue 20)
    assert sorted(os.listdir(str(secrets_dir))) == ['Clio.json', 'Outlook.json', 'Power_BI+%s.json'
                                                    % hashlib.sha256(b'Power BI').hexdigest()[:12]]
    tokens = [e for e in simulator.log() if e['endpoint'] == 'Token']
    assert tokens and all(e['status'] == 503 for e in tokens)
    entries = {e['name']: e for e in published(result)}
    assert entries['Power BI']['action'] == 'created' and entries['Power BI']['verified'] is False
    assert entries['Clio']['action'] == 'failed' and 'never overwritten' in entries['Clio']['error']
    assert entries['Outlook']['action'] == 'created' and entries['Outlook']['verified'] is None
    summary = result.task_result(SUMMARY)['msg']
    assert any('Power BI' in line and 'NO TOKEN' in line for line in summary), summary


def test_token_check_module(simulator, run_playbook):
    """creatio_oauth_token_check on its own: check mode sends nothing, a wrong secret is refused
    clearly, a token URL that cannot be worked out fails before any request, and a good client passes."""
    result = run_playbook("""
- name: Token checks
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/creatio.oauth.creatio:
      creatio_identity_url: "%(identity)s"
  tasks:
    - name: In check mode
      creatio.oauth.creatio_oauth_token_check:
        client_id: %(client_id)s
        client_secret: "{{ good_secret }}"
      check_mode: true
      register: in_check_mode

    - name: Good secret
      creatio.oauth.creatio_oauth_token_check:
        name: Ansible automation
        client_id: %(client_id)s
        client_secret: "{{ good_secret }}"

    - name: Wrong secret
      creatio.oauth.creatio_oauth_token_check:
        name: Ansible automation
        client_id: %(client_id)s
        client_secret: "{{ wrong_secret }}"
      ignore_errors: true

    - name: Token URL from the site
      creatio.oauth.creatio_oauth_token_check:
        client_id: %(client_id)s
        client_secret: "{{ good_secret }}"
        creatio_identity_url: "{{ omit }}"
      environment:
        CREATIO_IDENTITY_URL: ""
""" % {'identity': simulator.identity_url, 'client_id': AUTOMATION_CLIENT_ID},
        extra_vars={'good_secret': AUTOMATION_CLIENT_SECRET, 'wrong_secret': 'not-the-secret'}, env={'CREATIO_IDENTITY_URL': None}, verbosity=1)
    assert result.rc == 0, result
    token_url = simulator.identity_url + '/connect/token'
    checked = result.task_result('In check mode')
    assert checked['checked'] is False and checked['token_url'] == token_url
    assert 'check mode' in checked['msg']
    good = result.task_result('Good secret')
    assert good['checked'] is True and good['changed'] is False and 0 < good['expires_in'] <= 3600
    assert 'issued an access token to integration Ansible automation' in good['msg']
    assert sorted(k for k in good if not k.startswith('_')) == [
        'changed', 'checked', 'client_id', 'expires_in', 'invocation', 'msg', 'token_url']  # never the token
    assert AUTOMATION_CLIENT_SECRET not in result.output
    wrong = result.task_result('Wrong secret')
    assert wrong['msg'].startswith('No access token was issued to integration Ansible automation (client id '
                                   '%s) by %s: the identity service refused the client'
                                   % (AUTOMATION_CLIENT_ID, token_url)), wrong['msg']
    assert 'not-the-secret' not in result.output
    discovered = result.task_result('Token URL from the site')
    assert discovered['checked'] is True and discovered['token_url'] == token_url  # from its OpenID configuration
    assert [(e['endpoint'], e['status']) for e in simulator.log()] == [
        ('Token', 200), ('Token', 400), ('OpenIdConfiguration', 200), ('Token', 200)]

    # a site that publishes no OpenID configuration (Creatio 8.1), off Creatio cloud, and no
    # creatio_identity_url: the token URL is unknown, said before any token request
    simulator.configure(creatio_version='8.1')
    simulator.clear_log()
    unknown = run_playbook("""
- name: No token URL
  hosts: localhost
  gather_facts: false
  tasks:
    - name: No token URL
      creatio.oauth.creatio_oauth_token_check:
        client_id: %s
        client_secret: "{{ good_secret }}"
      ignore_errors: true
""" % AUTOMATION_CLIENT_ID, extra_vars={'good_secret': AUTOMATION_CLIENT_SECRET}, env={'CREATIO_IDENTITY_URL': None})
    msg = unknown.task_result('No token URL')['msg']
    assert 'the token URL of the identity service is unknown: creatio_identity_url is not set' in msg, msg
    assert 'OpenID configuration' in msg and 'OAuth20IdentityServerUrl' in msg
    assert 'Token' not in [e['endpoint'] for e in simulator.log()]
