# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23: the role creatio.oauth.integrations with a secret store (creatio_integrations_secret_store)
and with the hook creatio_integrations_secret_tasks, end to end: real ansible-playbook against the
simulator and a real OpenBao dev server (``bao server -dev``), an ansible-vault file opened with the
real ``ansible-vault view``. Assertions are on the simulator's log, what Vault holds (KV versions),
the files the run leaves, and every output."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat
import subprocess
import sys

import pytest

from helpers import AUTOMATION_CLIENT_ID, BIN_DIR, POWERBI_USER_ID, ROOT, WEBHOOK_USER_ID, cache_files, endpoints, remove_cache  # pylint: disable=import-error

sys.path.insert(0, os.path.join(ROOT, 'tests', 'unit', 'plugins', 'module_utils'))
from vault_server import BaoDevServer, bao_or_skip  # noqa: E402  pylint: disable=import-error,wrong-import-position

ROLE_PLAY = """
- name: Integrations with a secret store
  hosts: localhost
  gather_facts: false
  roles:
    - role: creatio.oauth.integrations
"""
ROLE = 'creatio.oauth.integrations : '
APPLY = ROLE + 'Apply the integrations'
FINAL = ROLE + 'Check that every integration was applied and verified'
INTEGRATIONS = [
    {'name': 'PowerBI', 'preset': 'powerbi', 'system_user_id': POWERBI_USER_ID},
    {'name': 'Hooks', 'preset': 'webhooks', 'application_url': 'https://hooks.example.com', 'system_user_id': WEBHOOK_USER_ID},
]


@pytest.fixture
def bao():
    server = BaoDevServer(bao_or_skip()).start()
    try:
        yield server
    finally:
        server.stop()


def site_of(sim):
    return sim.url.split('://', 1)[1].rstrip('/')


def kv_path(sim, name):
    return 'creatio/%s/%s' % (site_of(sim), name)


def new_secrets(sim):
    """{client id: secret} of the integrations the runs created (the automation client is seeded)."""
    return dict((k, v) for k, v in sim.issued_secrets()['client_secrets'].items() if k != AUTOMATION_CLIENT_ID)


def client_ids(sim):
    return dict((c['name'], c['clientId']) for c in sim.state()['clients'] if not c.get('seeded'))


def files_under(*folders):
    """The text of every file under ``folders`` (the facts cache's folder, the run's folder, ...)."""
    texts = []
    for folder in folders:
        for base, _dirs, names in os.walk(folder):
            for name in names:
                try:
                    with open(os.path.join(base, name), 'rb') as handle:
                        texts.append(handle.read().decode('utf-8', 'replace'))
                except OSError:
                    pass
    return '\n'.join(texts)


def assert_nowhere(secrets, *texts):
    for secret in secrets:
        assert secret, secrets
        for text in texts:
            assert secret not in text


def vault_env(bao, token=None):
    return {'VAULT_ADDR': bao.url, 'VAULT_TOKEN': token or bao.root_token, 'NO_PROXY': '127.0.0.1'}


def store_vars(store=None, integrations=None):
    return {'creatio_integrations': integrations or INTEGRATIONS,
            'creatio_integrations_secret_store': store or {'type': 'vault_kv2'}}


def test_new_secrets_go_to_vault_and_reruns_write_nothing(simulator, run_playbook, bao, cache_path, tmp_path):
    first = run_playbook(ROLE_PLAY, extra_vars=store_vars(), env=vault_env(bao), verbosity=3)
    assert first.rc == 0, first
    ids = client_ids(simulator)
    secrets = new_secrets(simulator)
    assert sorted(ids) == ['Hooks', 'PowerBI'] and len(secrets) == 2
    for name, client_id in ids.items():
        held = bao.kv_read(kv_path(simulator, name))
        assert held['client_id'] == client_id and held['client_secret'] == secrets[client_id]
        assert held['name'] == name and held['creatio_url'].rstrip('/') == simulator.url.rstrip('/')
        assert bao.kv_metadata(kv_path(simulator, name))['current_version'] == 1
    assert_nowhere(list(secrets.values()) + [bao.root_token], first.stdout, first.stderr,
                   files_under(os.path.dirname(cache_path), str(tmp_path / 'run')))
    summary = '\n'.join(first.task_result(ROLE + 'Summary')['msg'])
    assert 'were not saved' not in summary, summary
    assert 'put into the secret store: Hooks (vault_kv2 %s, secret/%s)' % (bao.url, kv_path(simulator, 'Hooks')) in summary, summary

    def no_write_again(**kwargs):
        mark = len(simulator.log())
        again = run_playbook(ROLE_PLAY, extra_vars=store_vars(), env=vault_env(bao), **kwargs)
        assert again.rc == 0, again
        assert endpoints(simulator.log()[mark:], 'write') == []
        for name in ids:
            assert bao.kv_metadata(kv_path(simulator, name))['current_version'] == 1
        assert client_ids(simulator) == ids
        return again

    no_write_again()
    remove_cache(cache_path)
    assert cache_files(cache_path) == []
    lost = no_write_again()
    assert 'holds nothing' not in lost.stdout  # the store was read: it holds the current clients


def test_approle_login_and_check_mode(simulator, run_playbook, bao):
    role_id, secret_id = bao.approle()
    store = {'type': 'vault_kv2', 'auth_method': 'approle'}
    env = {'VAULT_ADDR': bao.url, 'VAULT_ROLE_ID': role_id, 'VAULT_SECRET_ID': secret_id, 'NO_PROXY': '127.0.0.1'}
    check = run_playbook(ROLE_PLAY, extra_vars=store_vars(store), env=env, check=True)
    assert check.rc == 0, check
    assert endpoints(simulator.log(), 'write') == [] and client_ids(simulator) == {}
    assert bao.kv_metadata(kv_path(simulator, 'PowerBI')) is None
    # with verify_tokens: the new secrets, in no result, are still checked against the identity service
    real = run_playbook(ROLE_PLAY, extra_vars=dict(store_vars(store), creatio_integrations_verify=True),
                        env=dict(env, CREATIO_IDENTITY_URL=simulator.identity_url))
    assert real.rc == 0, real
    assert endpoints(simulator.log()).count('Token') == 2
    secrets = new_secrets(simulator)
    for name, client_id in client_ids(simulator).items():
        assert bao.kv_read(kv_path(simulator, name))['client_secret'] == secrets[client_id]
    assert_nowhere(list(secrets.values()) + [secret_id], real.stdout, real.stderr, check.stdout)


def test_a_refused_token_fails_before_anything_is_created(simulator, run_playbook, bao):
    result = run_playbook(ROLE_PLAY, extra_vars=store_vars(), env=vault_env(bao, token='not-a-valid-token-1234'))
    assert result.rc == 2, result
    assert result.failed_tasks() == [FINAL]
    assert 'AddClient' not in endpoints(simulator.log()) and client_ids(simulator) == {}
    msg = result.task_result(FINAL)['msg']
    assert 'vault_kv2 %s' % bao.url in msg, msg
    assert 'not-a-valid-token-1234' not in result.stdout + result.stderr


def test_one_place_for_the_secret(simulator, run_playbook, bao, tmp_path):
    extra = dict(store_vars(), creatio_integrations_secrets_dir=str(tmp_path / 'secrets'))
    result = run_playbook(ROLE_PLAY, extra_vars=extra, env=vault_env(bao))
    assert result.rc == 2, result
    msg = result.task_result(FINAL)['msg']
    assert 'secret_store and secrets_dir both say where the client secret goes' in msg, msg
    assert simulator.log() == []  # not even a login


def test_vault_sealed_after_add_client_keeps_the_secret_and_the_next_run_delivers_it(simulator, run_playbook, bao, cache_path):
    integrations = INTEGRATIONS[:1]
    simulator.trigger('AddClient', lambda _sim: bao.seal())
    first = run_playbook(ROLE_PLAY, extra_vars=store_vars(integrations=integrations), env=vault_env(bao))
    assert first.rc == 2, first
    assert endpoints(simulator.log(), 'write') == ['AddClient']
    (client_id, secret), = new_secrets(simulator).items()
    msg = first.task_result(FINAL)['msg']
    kept_folder = os.path.join(os.path.dirname(cache_path), 'kept-secrets')
    kept = os.listdir(kept_folder)
    assert len(kept) == 1 and client_id in kept[0], kept
    kept_path = os.path.join(kept_folder, kept[0])
    assert stat.S_IMODE(os.stat(kept_path).st_mode) == 0o600
    assert 'secret_store vault_kv2 %s' % bao.url in msg and kept_path in msg, msg
    assert_nowhere([secret, bao.root_token], first.stdout, first.stderr)

    bao.unseal()
    mark = len(simulator.log())
    second = run_playbook(ROLE_PLAY, extra_vars=store_vars(integrations=integrations), env=vault_env(bao))
    assert second.rc == 0, second
    assert endpoints(simulator.log()[mark:], 'write') == []  # no second integration
    assert list(client_ids(simulator).values()) == [client_id]
    held = bao.kv_read(kv_path(simulator, 'PowerBI'))
    assert held['client_id'] == client_id and held['client_secret'] == secret
    assert os.listdir(kept_folder) == []
    assert_nowhere([secret, bao.root_token], second.stdout, second.stderr)


def test_ansible_vault_file_store_through_the_role(simulator, run_playbook, tmp_path, cache_path):
    password_file = tmp_path / 'vault-pass'
    password_file.write_text('role-password\n')
    folder = tmp_path / 'vaulted'
    folder.mkdir(mode=0o700)
    store = {'type': 'ansible_vault_file', 'path': str(folder / '{name}.vault'), 'vault_password_file': str(password_file)}
    result = run_playbook(ROLE_PLAY, extra_vars=store_vars(store))
    assert result.rc == 0, result
    secrets = new_secrets(simulator)
    for name, client_id in client_ids(simulator).items():
        path = str(folder / ('%s.vault' % name))
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        view = subprocess.run([os.path.join(BIN_DIR, 'ansible-vault'), 'view', '--vault-password-file', str(password_file), path],
                              capture_output=True, text=True, env=dict(os.environ, PAGER='cat', ANSIBLE_PAGER='cat'), check=False)
        assert view.returncode == 0, view.stderr
        held = json.loads(view.stdout)
        assert held['client_id'] == client_id and held['client_secret'] == secrets[client_id]
    assert_nowhere(secrets.values(), result.stdout, result.stderr, files_under(os.path.dirname(cache_path)))


SECRET_TASKS = """
- name: Keep what the role handed over (a stand-in for amazon.aws.secretsmanager_secret)
  ansible.builtin.copy:
    dest: "{{ received_dir }}/{{ creatio_integrations_new_secret.name }}.json"
    content: "{{ creatio_integrations_new_secret | to_json }}"
    mode: '0600'
"""


def test_secret_tasks_get_each_new_secret_once_and_print_none(simulator, run_playbook, tmp_path, cache_path):
    tasks = tmp_path / 'secret-tasks.yml'
    tasks.write_text(SECRET_TASKS)
    received = tmp_path / 'received'
    received.mkdir()
    extra = {'creatio_integrations': INTEGRATIONS, 'creatio_integrations_secret_tasks': str(tasks), 'received_dir': str(received)}
    first = run_playbook(ROLE_PLAY, extra_vars=extra, verbosity=3)
    assert first.rc == 0, first
    secrets = new_secrets(simulator)
    ids = client_ids(simulator)
    got = dict((n[:-5], json.loads((received / n).read_text())) for n in os.listdir(str(received)))
    assert sorted(got) == ['Hooks', 'PowerBI']
    for name, document in got.items():
        assert document['client_id'] == ids[name] and document['client_secret'] == secrets[ids[name]]
        assert document['name'] == name and document['creatio_url'].rstrip('/') == simulator.url.rstrip('/')
        assert set(document) == {'name', 'client_id', 'client_secret', 'creatio_url', 'token_url'}
    assert_nowhere(secrets.values(), first.stdout, first.stderr)
    for name in got:
        os.unlink(str(received / ('%s.json' % name)))
    again = run_playbook(ROLE_PLAY, extra_vars=extra)
    assert again.rc == 0, again
    assert os.listdir(str(received)) == []  # no new secret: the tasks are not included


MODULE_PLAY = """
- name: One integration with a secret store
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Webhooks
      creatio.oauth.creatio_oauth_client:
        name: Hooks
        grant_type: client_credentials
        application_url: https://hooks.example.com
        system_user_id: %s
        secret_store: "{{ store }}"
        client_secret_file: "{{ secret_file | default(omit) }}"
      register: created
""" % WEBHOOK_USER_ID


def test_the_module_returns_where_the_secret_went_not_the_secret(simulator, run_playbook, bao, tmp_path):
    store = {'store': {'type': 'vault_kv2'}}
    refused = run_playbook(MODULE_PLAY, extra_vars=dict(store, secret_file=str(tmp_path / 'hooks.json')), env=vault_env(bao))
    assert refused.rc == 2, refused
    assert 'secret_store and client_secret_file both say where the client secret goes' in refused.task_result('Webhooks')['msg']
    assert simulator.log() == []

    check = run_playbook(MODULE_PLAY, extra_vars=store, env=vault_env(bao), check=True)
    assert check.rc == 0, check
    planned = check.task_result('Webhooks')
    assert planned['changed'] is True and planned['secret_store']['changed'] is True and 'client_secret' not in planned
    assert endpoints(simulator.log(), 'write') == [] and bao.kv_metadata(kv_path(simulator, 'Hooks')) is None

    result = run_playbook(MODULE_PLAY, extra_vars=store, env=vault_env(bao), diff=True, verbosity=3)
    assert result.rc == 0, result
    task = result.task_result('Webhooks')
    assert 'client_secret' not in task
    location = 'vault_kv2 %s, secret/%s' % (bao.url, kv_path(simulator, 'Hooks'))
    assert task['secret_store'] == {'location': location, 'changed': True, 'version': 1}
    (client_id, secret), = new_secrets(simulator).items()
    assert bao.kv_read(kv_path(simulator, 'Hooks'))['client_secret'] == secret
    assert_nowhere([secret], result.stdout, result.stderr)

    again = run_playbook(MODULE_PLAY, extra_vars=store, env=vault_env(bao))
    assert again.rc == 0, again
    assert again.task_result('Webhooks')['secret_store'] == {'location': location, 'changed': False}
    assert bao.kv_metadata(kv_path(simulator, 'Hooks'))['current_version'] == 1
    assert list(client_ids(simulator).values()) == [client_id]


def test_a_path_holding_another_client_fails_before_add_client(simulator, run_playbook, bao):
    bao.kv_write(kv_path(simulator, 'Hooks'), {'client_id': 'SOMEONE-ELSE', 'client_secret': 'other-secret-value'})
    result = run_playbook(MODULE_PLAY, extra_vars={'store': {'type': 'vault_kv2'}}, env=vault_env(bao))
    assert result.rc == 2, result
    msg = result.task_result('Webhooks')['msg']
    assert 'holds the secret of client id SOMEONE-ELSE already' in msg and 'was not created' in msg, msg
    assert 'AddClient' not in endpoints(simulator.log())
    assert 'other-secret-value' not in result.stdout + result.stderr


def test_a_refused_token_fails_before_the_system_user_is_created(simulator, run_playbook, bao):
    users = len(simulator.state()['users'])
    result = run_playbook("""
- name: A new technical user and its integration
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Webhooks
      creatio.oauth.creatio_oauth_client:
        name: Hooks
        grant_type: client_credentials
        application_url: https://hooks.example.com
        system_user: Hooks technical user
        create_system_user: true
        secret_store: {type: vault_kv2}
""", env=vault_env(bao, token='not-a-valid-token-5678'))
    assert result.rc == 2, result
    assert 'vault_kv2 %s' % bao.url in result.task_result('Webhooks')['msg']
    assert len(simulator.state()['users']) == users and client_ids(simulator) == {}
    assert [e for e in simulator.log() if e['method'] != 'GET'] == []
