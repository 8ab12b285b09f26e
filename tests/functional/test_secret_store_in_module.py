# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23: the secret stores inside a real module process (AnsiballZ), before any module is wired
to them. A probe module beside the playbook imports the collection's _secret_store the way the
modules will; the stores write to a real OpenBao dev server and to an ansible-vault file that the
real ``ansible-vault view`` opens.

This is what proves the ansible_vault_file store works in a module at all: ansible-core's vault
code cannot be imported inside AnsiballZ (its payload shadows the ``ansible`` package), so the store
runs it in a child process; a unit test in the controller's process would not notice."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat
import subprocess
import sys

import pytest

from helpers import BIN_DIR, ROOT

sys.path.insert(0, os.path.join(ROOT, 'tests', 'unit', 'plugins', 'module_utils'))
from vault_server import BaoDevServer, bao_or_skip  # noqa: E402  pylint: disable=import-error,wrong-import-position

SECRET = 'probe-client-secret-0c7e2b'

PROBE_MODULE = '''#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CreatioError
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store import (
    secret_document, secret_store_argspec, secret_store_from_option, site_of)


def main():
    module = AnsibleModule(argument_spec=dict(
        secret_store=secret_store_argspec(), creatio_url=dict(type='str', required=True), name=dict(type='str', required=True),
        client_id=dict(type='str', required=True), client_secret=dict(type='str', required=True, no_log=True)))
    params = module.params
    try:
        store = secret_store_from_option(params['secret_store'], timeout=10, run_command=module.run_command)
        path = store.location(site_of(params['creatio_url']), params['name'])
        store.check_usable(path)
        before = store.current_client_id(path)
        result = store.deliver(path, secret_document(params['name'], params['client_id'], params['client_secret'], params['creatio_url']))
        store.close()
    except CreatioError as exc:
        module.fail_json(msg=exc.full_message(), error=exc.details())
    for warning in store.warnings:
        module.warn(warning)
    module.exit_json(changed=result['changed'], path=path, held_before=before, stored=result)


main()
'''

PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Deliver
      secret_store_probe:
        secret_store: "{{ store }}"
        creatio_url: https://crm.example.com/CreatioApp
        name: Probe
        client_id: client-probe-1
        client_secret: "{{ secret }}"
'''


@pytest.fixture
def probe(tmp_path):
    """A playbook with the probe module in its library folder."""
    folder = tmp_path / 'probe'
    (folder / 'library').mkdir(parents=True)
    (folder / 'library' / 'secret_store_probe.py').write_text(PROBE_MODULE)
    (folder / 'playbook.yml').write_text(PLAYBOOK)
    return str(folder / 'playbook.yml')


def delivered(result):
    task = result.task_result('Deliver')
    assert not task.get('failed'), result
    return task


def test_vault_kv2_from_a_module_with_the_login_in_the_environment(run_playbook, probe):
    server = BaoDevServer(bao_or_skip()).start()
    try:
        env = {'VAULT_ADDR': server.url, 'VAULT_TOKEN': server.root_token, 'NO_PROXY': '127.0.0.1'}
        extra = {'store': {'type': 'vault_kv2'}, 'secret': SECRET}
        first = run_playbook(probe, extra_vars=extra, env=env)
        task = delivered(first)
        path = 'creatio/crm.example.com/CreatioApp/Probe'
        assert task['path'] == path and task['changed'] is True and task['held_before'] is None
        assert server.kv_read(path)['client_secret'] == SECRET
        # a second run: the store holds the client already, nothing written
        second = run_playbook(probe, extra_vars=extra, env=env)
        task = delivered(second)
        assert task['changed'] is False and task['held_before'] == 'client-probe-1'
        assert server.kv_metadata(path)['current_version'] == 1
        for output in (first.stdout, first.stderr, second.stdout, second.stderr):
            assert server.root_token not in output and SECRET not in output
    finally:
        server.stop()


def test_ansible_vault_file_from_a_module(run_playbook, probe, tmp_path):
    password_file = tmp_path / 'vault-pass'
    password_file.write_text('probe-password\n')
    secrets_dir = tmp_path / 'secrets'
    secrets_dir.mkdir(mode=0o700)
    extra = {'store': {'type': 'ansible_vault_file', 'path': str(secrets_dir / '{site}' / '{name}.vault')}, 'secret': SECRET}
    result = run_playbook(probe, extra_vars=extra, env={'ANSIBLE_VAULT_PASSWORD_FILE': str(password_file)})
    task = delivered(result)
    path = str(secrets_dir / 'crm.example.com' / 'CreatioApp' / 'Probe.vault')
    assert task['path'] == path and task['changed'] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    view = subprocess.run([os.path.join(BIN_DIR, 'ansible-vault'), 'view', '--vault-password-file', str(password_file), path],
                          capture_output=True, text=True, env=dict(os.environ, PAGER='cat', ANSIBLE_PAGER='cat'), check=False)
    assert view.returncode == 0, view.stderr
    held = json.loads(view.stdout)
    assert held['client_id'] == 'client-probe-1' and held['client_secret'] == SECRET
    assert SECRET not in result.stdout and SECRET not in result.stderr
