# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23, recovery through the role creatio.oauth.integrations: a secret store that lacks the
secret of an integration Creatio has. On Creatio 8.1 (GetClientSecret) an item with recover_secret
gets the store filled with the right secret, and nothing is created or deleted; where the site has no
GetClientSecret (the simulator's switch) the run says the secret cannot be read back and names
rotation, and changes nothing. Real ansible-playbook, the simulator, a real OpenBao dev server (and
the files store); assertions on the simulator's log, what the store holds and every output."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from helpers import POWERBI_USER_ID, endpoints, writes  # pylint: disable=import-error
from test_secret_stores import (  # noqa: F401  pylint: disable=import-error,unused-import
    FINAL, ROLE, ROLE_PLAY, assert_nowhere, bao, client_ids, kv_path, new_secrets, site_of, vault_env)

ITEM = {'name': 'PowerBI', 'preset': 'powerbi', 'system_user_id': POWERBI_USER_ID}


def role_vars(store, **item):
    return {'creatio_integrations': [dict(ITEM, **item)], 'creatio_integrations_secret_store': store}


def created_then_lost(simulator, run_playbook, bao, store=None, env=None):
    """One integration made through the role with the store, then its document deleted from the store
    (every version: as if the store were emptied). Returns (client id, secret)."""
    store = store or {'type': 'vault_kv2'}
    first = run_playbook(ROLE_PLAY, extra_vars=role_vars(store), env=env if env is not None else vault_env(bao))
    assert first.rc == 0, first
    (client_id, secret), = new_secrets(simulator).items()
    if store['type'] == 'vault_kv2':
        assert bao.kv_read(kv_path(simulator, 'PowerBI'))['client_id'] == client_id
        status, _answer = bao.api('DELETE', 'secret/metadata/%s' % kv_path(simulator, 'PowerBI'))
        assert status == 204 and bao.kv_metadata(kv_path(simulator, 'PowerBI')) is None
    return client_id, secret


def test_on_81_a_store_that_lost_the_secret_is_filled_from_creatio_without_a_new_integration(simulator, run_playbook, bao):
    simulator.configure(creatio_version='8.1')
    client_id, secret = created_then_lost(simulator, run_playbook, bao)

    mark = len(simulator.log())
    warned = run_playbook(ROLE_PLAY, extra_vars=role_vars({'type': 'vault_kv2'}), env=vault_env(bao))
    assert warned.rc == 0, warned  # without recover_secret: a warning naming the way out, nothing asked
    assert 'Set recover_secret: true' in warned.stdout + warned.stderr, warned
    assert 'GetClientSecret' not in endpoints(simulator.log()[mark:]) and bao.kv_metadata(kv_path(simulator, 'PowerBI')) is None

    mark = len(simulator.log())
    recovered = run_playbook(ROLE_PLAY, extra_vars=role_vars({'type': 'vault_kv2'}, recover_secret=True), env=vault_env(bao),
                             verbosity=3)
    assert recovered.rc == 0, recovered
    log = simulator.log()[mark:]
    assert writes(log) == [], endpoints(log)  # no AddClient, no DeleteClient, no UpdateClient
    assert endpoints(log).count('GetClientSecret') == 1
    held = bao.kv_read(kv_path(simulator, 'PowerBI'))
    assert held['client_id'] == client_id and held['client_secret'] == secret and held['name'] == 'PowerBI'
    assert client_ids(simulator) == {'PowerBI': client_id}
    summary = '\n'.join(recovered.task_result(ROLE + 'Summary')['msg'])
    assert 'read back the client secret of integration PowerBI' in summary, summary
    assert_nowhere([secret, bao.root_token], recovered.stdout, recovered.stderr, warned.stdout, warned.stderr)

    mark = len(simulator.log())
    again = run_playbook(ROLE_PLAY, extra_vars=role_vars({'type': 'vault_kv2'}, recover_secret=True), env=vault_env(bao))
    assert again.rc == 0, again
    assert 'GetClientSecret' not in endpoints(simulator.log()[mark:])  # the store holds it: nothing read back again
    assert bao.kv_metadata(kv_path(simulator, 'PowerBI'))['current_version'] == 1


def test_without_get_client_secret_the_run_names_rotation_and_changes_nothing(simulator, run_playbook, bao):
    simulator.configure(get_client_secret=False)  # Creatio 8.3 without the method
    client_id, secret = created_then_lost(simulator, run_playbook, bao)

    mark = len(simulator.log())
    result = run_playbook(ROLE_PLAY, extra_vars=role_vars({'type': 'vault_kv2'}, recover_secret=True), env=vault_env(bao))
    assert result.rc == 2, result
    assert result.failed_tasks() == [FINAL]
    log = simulator.log()[mark:]
    assert writes(log) == [], endpoints(log)  # nothing created or deleted
    msg = result.task_result(FINAL)['msg']
    assert 'cannot be read back from this site' in msg and client_id in msg, msg
    assert 'rotation' in msg and 'rotate_after_days' in msg, msg
    assert client_ids(simulator) == {'PowerBI': client_id}
    assert bao.kv_metadata(kv_path(simulator, 'PowerBI')) is None
    assert_nowhere([secret], result.stdout, result.stderr)

    # the site's answer is remembered (a day): the next run does not ask again, and still creates nothing
    mark = len(simulator.log())
    again = run_playbook(ROLE_PLAY, extra_vars=role_vars({'type': 'vault_kv2'}, recover_secret=True), env=vault_env(bao))
    assert again.rc == 2, again
    assert 'GetClientSecret' not in endpoints(simulator.log()[mark:]) and writes(simulator.log()[mark:]) == []


def test_on_81_a_files_store_that_lost_the_file_gets_it_back(simulator, run_playbook, tmp_path):
    simulator.configure(creatio_version='8.1')
    folder = tmp_path / 'store'
    folder.mkdir(mode=0o700)
    store = {'type': 'files', 'path': str(folder / '{site}' / '{name}.json')}
    first = run_playbook(ROLE_PLAY, extra_vars=role_vars(store))
    assert first.rc == 0, first
    (client_id, secret), = new_secrets(simulator).items()
    path = os.path.join(str(folder), site_of(simulator), 'PowerBI.json')
    os.unlink(path)

    mark = len(simulator.log())
    recovered = run_playbook(ROLE_PLAY, extra_vars=role_vars(store, recover_secret=True))
    assert recovered.rc == 0, recovered
    log = simulator.log()[mark:]
    assert writes(log) == [] and endpoints(log).count('GetClientSecret') == 1
    with open(path) as handle:
        document = json.load(handle)
    assert document['client_id'] == client_id and document['client_secret'] == secret
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    assert_nowhere([secret], recovered.stdout, recovered.stderr)
