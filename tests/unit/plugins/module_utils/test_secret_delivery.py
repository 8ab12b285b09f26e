# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A new secret is never lost on its way to the secret store: whatever fails after AddClient (an odd
answer the store's code did not foresee included), the secret is kept beside the facts cache and the
next run delivers it, without a second AddClient."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._secret_delivery import with_secret_store
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_files import FilesStore
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run, webhook_item


def store_run(sim, tmp_path, store_dir):
    run = make_run(sim, tmp_path, clients=[webhook_item()], secrets_dir=None, verify_tokens=False,
                   secret_store={'type': 'files', 'path': str(store_dir / '{name}.json')})
    run.module.run_command = None  # the files store runs no command
    return run, with_secret_store(batch.apply_many)


def test_a_store_failing_in_an_unforeseen_way_after_add_client_keeps_the_secret(sim, tmp_path, monkeypatch):
    store_dir = tmp_path / 'store'
    store_dir.mkdir(mode=0o700)

    def odd(self, path, document, previous_client_id=None):
        raise KeyError('version')  # not one of the collection's errors
    monkeypatch.setattr(FilesStore, 'deliver', odd)
    run, service = store_run(sim, tmp_path, store_dir)
    failed = service(run)
    assert failed['failed'] is True and 'client_secret' not in json.dumps(failed), failed  # kept: not shown
    client = [c for c in sim.state()['clients'] if c['name'] == 'Webhooks'][0]
    secret = sim.issued_secrets()['client_secrets'][client['clientId']]
    kept = secret_file.kept_secret_files(secret_file.kept_folder(run.cache.path), run.site, 'Webhooks')
    assert len(kept) == 1 and json.load(open(kept[0]))['client_secret'] == secret

    monkeypatch.undo()
    sim.clear_log()
    run, service = store_run(sim, tmp_path, store_dir)
    service(run)
    assert json.load(open(str(store_dir / 'Webhooks.json')))['client_secret'] == secret
    assert not [e for e in sim.log() if e['kind'] == 'write']  # delivered from the kept copy: no second AddClient
    assert not os.path.exists(kept[0])


def test_with_odata_refused_a_store_conflict_stops_no_batch_that_would_create_nothing(sim, tmp_path):
    """OData refused and an empty cache: no integration is created (create_when_unreadable is off), so what
    the store holds is no reason to fail the batch before it; each item says why it was not created."""
    store_dir = tmp_path / 'store'
    store_dir.mkdir(mode=0o700)
    with open(str(store_dir / 'Webhooks.json'), 'w') as handle:
        json.dump({'name': 'Webhooks', 'client_id': 'ABCDEF0123456789ABCDEF0123456789', 'client_secret': 'x' * 64,
                   'creatio_url': sim.url}, handle)
    os.chmod(str(store_dir / 'Webhooks.json'), 0o600)
    sim.configure(odata_status=403)
    run, service = store_run(sim, tmp_path, store_dir)
    result = service(run)
    entry = result['integrations'][0]
    assert entry['action'] == 'failed' and 'create_when_unreadable' in json.dumps(result), result
    assert not [e for e in sim.log() if e['kind'] == 'write']


def test_the_files_store_puts_the_old_secret_back_when_the_new_one_cannot_be_written(tmp_path, monkeypatch):
    from ansible_collections.creatio.oauth.plugins.module_utils._secret_store import secret_document, secret_store_from_option
    store = secret_store_from_option({'type': 'files', 'path': str(tmp_path / '{name}.json')}, environ={})
    path = store.location('site.example.com', 'Webhooks')
    store.deliver(path, secret_document('Webhooks', 'AAAA0000AAAA0000AAAA0000AAAA0000', 'old-secret-' + 'a' * 20,
                                        'https://site.example.com'))

    def full_disk(*_args):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(FilesStore, '_write', full_disk)
    with pytest.raises(OSError):
        store.deliver(path, secret_document('Webhooks', 'BBBB1111BBBB1111BBBB1111BBBB1111', 'new-secret-' + 'b' * 20,
                                            'https://site.example.com'), previous_client_id='AAAA0000AAAA0000AAAA0000AAAA0000')
    assert json.load(open(path))['client_id'] == 'AAAA0000AAAA0000AAAA0000AAAA0000'  # consumers still find the old one
    assert os.listdir(str(tmp_path)) == [os.path.basename(path)]


def test_a_rotation_whose_store_write_landed_despite_an_error_is_not_rolled_back(sim, tmp_path, monkeypatch):
    """The store answered with an error after it took the successor's secret (a lost answer): what the store
    holds decides, so the successor stays and the store never keeps the secret of a deleted client."""
    from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_base import SecretStoreError
    store_dir = tmp_path / 'store'
    store_dir.mkdir(mode=0o700)

    def rotating_run():
        run = make_run(sim, tmp_path, clients=[webhook_item(rotate_after_days=0)], secrets_dir=None, verify_tokens=False,
                       secret_store={'type': 'files', 'path': str(store_dir / '{name}.json')})
        run.module.run_command = None
        return run, with_secret_store(batch.apply_many)

    run, service = rotating_run()
    first = service(run)  # created now: not rotated yet
    assert not first.get('failed'), first
    old_id = json.load(open(str(store_dir / 'Webhooks.json')))['client_id']

    landed = FilesStore.deliver

    def lost_answer(self, path, document, previous_client_id=None):
        landed(self, path, document, previous_client_id=previous_client_id)
        raise SecretStoreError('the answer of the write was lost', store='files %s' % path)
    monkeypatch.setattr(FilesStore, 'deliver', lost_answer)
    run, service = rotating_run()
    service(run)
    monkeypatch.undo()

    named = [c for c in sim.state()['clients'] if c['name'] == 'Webhooks']
    assert len(named) == 1 and named[0]['clientId'] != old_id, named  # the successor stays under the name
    assert json.load(open(str(store_dir / 'Webhooks.json')))['client_id'] == named[0]['clientId']
    assert [c['clientId'] for c in sim.state()['clients'] if c['name'].startswith('Webhooks (retired')] == [old_id]
