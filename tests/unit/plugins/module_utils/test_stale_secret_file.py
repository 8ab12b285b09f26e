# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 15 item 6: drift repair is not blocked by the secret file of an integration deleted by hand.

The role's secrets folder keeps ``<name>.json`` of every integration it created. When that
integration is deleted in Creatio, the next run creates it again: the old file (written by this
collection, for another client id) is kept under another name, never overwritten, and the new
secret takes its place. Anything else in the way is still refused."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run, webhook_item as item


def apply(sim, tmp_path, secrets_dir, items, check_mode=False):
    run = make_run(sim, tmp_path, check_mode=check_mode, clients=items, secrets_dir=str(secrets_dir), verify_tokens=False)
    return run, batch.apply_many(run)


def server_id(sim, name):
    return [c for c in sim.state()['clients'] if c['name'] == name][0]['clientId']


def test_the_file_of_an_integration_deleted_by_hand_is_kept_and_the_integration_created_again(sim, tmp_path):
    secrets = tmp_path / 'secrets'
    _run, first = apply(sim, tmp_path, secrets, [item()])
    old_id = server_id(sim, 'Webhooks')
    path = secrets / 'Webhooks.json'
    old_text = path.read_text()
    assert json.loads(old_text)['client_id'] == old_id and first['integrations'][0]['action'] == 'created'
    make_run(sim, tmp_path).client.call('DeleteClient', {'clientId': old_id})  # by hand, behind the collection's back

    # check mode: the run it predicts is a creation; the file is only reported, not moved
    sim.clear_log()
    run, check = apply(sim, tmp_path, secrets, [item()], check_mode=True)
    assert check.get('failed') is not True, check
    assert check['integrations'][0]['action'] == 'created'
    assert [e for e in sim.log() if e['kind'] == 'write'] == []
    assert sorted(os.listdir(str(secrets))) == ['Webhooks.json'] and path.read_text() == old_text
    assert any('a real run keeps it as %s.%s' % (path, old_id) in w for w in run.warnings), run.warnings
    assert any(line.startswith('Would keep the secret file of the earlier Webhooks (client id %s,' % old_id)
               for line in check['summary']), check['summary']

    # the real run: created again, the old file kept as Webhooks.json.<old client id>, the new secret in Webhooks.json
    run, again = apply(sim, tmp_path, secrets, [item()])
    assert again.get('failed') is not True, again
    new_id = server_id(sim, 'Webhooks')
    assert new_id != old_id and again['integrations'][0]['action'] == 'created'
    kept = secrets / ('Webhooks.json.%s' % old_id)
    assert kept.read_text() == old_text and oct(os.stat(str(kept)).st_mode & 0o777) == oct(0o600)
    written = json.loads(path.read_text())
    assert written['client_id'] == new_id and written['client_secret'] == again['clients'][0]['client_secret']
    assert again['clients'][0]['stale_secret_file'] == {'path': str(path), 'kept_as': str(kept), 'client_id': old_id}
    assert any('it was kept as %s' % kept in w for w in run.warnings), run.warnings
    assert ('Kept the secret file of the earlier Webhooks (client id %s, which Creatio no longer has): %s -> %s'
            % (old_id, path, kept)) in again['summary']

    # once more, and the kept name is taken: a time-stamped name, nothing overwritten
    make_run(sim, tmp_path).client.call('DeleteClient', {'clientId': new_id})
    (secrets / ('Webhooks.json.%s' % new_id)).write_text(u'taken\n')
    _run, third = apply(sim, tmp_path, secrets, [item()])
    assert third.get('failed') is not True, third
    assert (secrets / ('Webhooks.json.%s' % new_id)).read_text() == u'taken\n'
    assert len(os.listdir(str(secrets))) == 4 and third['clients'][0]['stale_secret_file']['kept_as'].startswith(
        str(secrets / ('Webhooks.json.%s.' % new_id)))


def test_anything_else_in_the_way_is_still_refused(sim, tmp_path):
    secrets = tmp_path / 'secrets'
    secrets.mkdir(mode=0o700)
    foreign = {'Webhooks.json': u'{"keep": "me"}\n',                                      # not written by the collection
               'Clio.json': json.dumps({'name': 'Another', 'client_id': 'ABC'}),          # another integration's
               'Power_BI.json': u'not json'}
    for name, text in foreign.items():
        (secrets / name).write_text(text)
    os.symlink(str(secrets / 'Webhooks.json'), str(secrets / 'Linked.json'))
    items = [item(), item('Clio', preset='clio', application_url=None), item('Power_BI', preset='powerbi', application_url=None),
             item('Linked')]
    _run, result = apply(sim, tmp_path, secrets, items)
    assert result['failed'] is True
    assert [e['action'] for e in result['integrations']] == ['failed'] * 4
    assert all('already exists; it is never overwritten' in e['error'] for e in result['integrations']), result
    assert sorted(os.listdir(str(secrets))) == sorted(list(foreign) + ['Linked.json'])
    assert all((secrets / name).read_text() == text for name, text in foreign.items())
    assert [c['name'] for c in sim.state()['clients'] if not c.get('seeded')] == []


def test_a_file_given_by_name_is_never_set_aside(sim, tmp_path):
    """Only the secrets folder's own files are kept aside: a client_secret_file the user named stays refused."""
    path = tmp_path / 'mine.json'
    path.write_text(json.dumps({'name': 'Webhooks', 'client_id': 'OLD'}))
    _run, result = apply(sim, tmp_path, tmp_path / 'secrets', [item(client_secret_file=str(path))])
    assert result['failed'] is True and 'already exists' in result['integrations'][0]['error']
    assert json.loads(path.read_text()) == {'name': 'Webhooks', 'client_id': 'OLD'}


def test_stale_client_id_rules(tmp_path):
    path = tmp_path / 'X.json'
    path.write_text(json.dumps({'name': 'X', 'client_id': 'abc', 'client_secret': 's'}))
    assert secret_file.stale_client_id(str(path), 'X', None) == 'abc'
    assert secret_file.stale_client_id(str(path), 'X', 'DEF') == 'abc'
    assert secret_file.stale_client_id(str(path), 'X', 'ABC') is None  # the integration's current client id
    assert secret_file.stale_client_id(str(path), 'Y', None) is None
    path.write_text(json.dumps({'name': 'X', 'client_id': ''}))
    assert secret_file.stale_client_id(str(path), 'X', None) is None
    assert secret_file.stale_client_id(str(tmp_path / 'missing.json'), 'X', None) is None
