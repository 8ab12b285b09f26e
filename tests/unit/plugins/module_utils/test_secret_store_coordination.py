# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23, review findings: a secret store shared by runs that do not see each other.

- A store path without {site} used by two sites: a document of another site (or integration) is never
  written over, by a read-back, a kept copy or a new integration; the failure names secret_store.path.
- A run that gives way to another run's creation of the same name takes back the secret it delivered
  for its own (deleted) client, and its report says the item was adopted.
- Two runs rotating the same integration: a rotation never delivers over a document another run wrote
  meanwhile, a run rolling back another's unfinished rotation marks the store first, and a run that
  finds another run's successor in the store gives way.

Against the simulator (in process) and the files store or a real OpenBao dev server."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils import _report as report
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Declaration
from ansible_collections.creatio.oauth.plugins.module_utils._secret_delivery import with_secret_store
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_base import SecretStoreConflictError
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_vault import VaultKv2Store
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run, webhook_item
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.vault_server import BaoDevServer, bao_or_skip

OTHER_SITE = 'https://other-site.example.com'
OTHER_SECRET = 'other-site-secret-4d1c9e'
RIVAL_ID = '00000000-0000-4000-8000-000000000001'  # sorts before any Id the simulator gives


@pytest.fixture(scope='module')
def bao():
    server = BaoDevServer(bao_or_skip()).start()
    yield server
    server.stop()


def files_option(store_dir):
    return {'type': 'files', 'path': str(store_dir / '{name}.json')}  # no {site}: shared by every site


def vault_option(server, path):
    return {'type': 'vault_kv2', 'url': server.url, 'token': server.root_token, 'path': path}


def apply(sim, tmp_path, option, items, cache='cache', check_mode=False, **params):
    kwargs = dict(clients=items, secrets_dir=None, verify_tokens=False, secret_store=option)
    kwargs.update(params)
    (tmp_path / cache).mkdir(exist_ok=True)
    run = make_run(sim, tmp_path / cache, check_mode=check_mode, **kwargs)
    run.module.run_command = None  # the stores used here run no command
    return run, with_secret_store(batch.apply_many)(run)


def item_result(result, name='Webhooks'):
    return [c for c in result['clients'] if c['name'] == name][0]


def clients_named(sim, name):
    return [c for c in sim.state()['clients'] if c['name'] == name]


def other_site_document(client_id='0123456789ABCDEF0123456789ABCDEF', name='Webhooks'):
    return {'name': name, 'client_id': client_id, 'client_secret': OTHER_SECRET, 'creatio_url': OTHER_SITE,
            'created': '2026-01-01T00:00:00Z'}


# --- a path shared by sites ------------------------------------------------------------------------

def test_a_read_back_never_replaces_another_sites_document_at_a_shared_path(sim, tmp_path):
    sim.configure(creatio_version='8.1')
    store_dir = tmp_path / 'store'
    store_dir.mkdir(mode=0o700)
    _run, first = apply(sim, tmp_path, files_option(store_dir), [webhook_item()])
    assert item_result(first)['secret_store']['changed'] is True, first
    ours = json.load(open(str(store_dir / 'Webhooks.json')))
    # the other site's run wrote its own Webhooks there (its run replaced ours: that is what it reads back over)
    foreign = other_site_document()
    with open(str(store_dir / 'Webhooks.json'), 'w') as handle:
        json.dump(foreign, handle)
    sim.clear_log()
    _run, second = apply(sim, tmp_path, files_option(store_dir), [webhook_item(recover_secret=True)])
    failed = item_result(second)
    assert failed.get('failed') is True, second
    assert 'secret_store.path has no {site}' in failed['msg'] and OTHER_SITE in failed['msg'], failed['msg']
    assert 'put {site} in secret_store.path' in failed['error']['hint'], failed['error']
    assert json.load(open(str(store_dir / 'Webhooks.json'))) == foreign  # nothing written over it
    assert os.listdir(str(store_dir)) == ['Webhooks.json']  # nor kept aside
    assert 'GetClientSecret' not in [e['endpoint'] for e in sim.log()]  # nothing read back for nothing
    assert ours['client_secret'] not in json.dumps(second) and OTHER_SECRET not in json.dumps(second)


def test_a_kept_copy_is_never_delivered_over_another_sites_document(sim, tmp_path, monkeypatch):
    store_dir = tmp_path / 'store'
    store_dir.mkdir(mode=0o700)
    from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_files import FilesStore

    def sealed(self, path, document, previous_client_id=None):
        raise OSError('the store is away')
    monkeypatch.setattr(FilesStore, 'deliver', sealed)
    _run, first = apply(sim, tmp_path, files_option(store_dir), [webhook_item()])
    assert item_result(first)['failed'] is True  # kept beside the cache
    monkeypatch.undo()
    foreign = other_site_document()
    with open(str(store_dir / 'Webhooks.json'), 'w') as handle:
        json.dump(foreign, handle)
    _run, second = apply(sim, tmp_path, files_option(store_dir), [webhook_item()])
    failed = item_result(second)
    assert failed.get('failed') is True and 'the kept copy' in failed['msg'] and '{site}' in failed['msg'], failed
    assert json.load(open(str(store_dir / 'Webhooks.json'))) == foreign


def test_a_new_integration_at_a_path_holding_another_sites_document_is_not_created(sim, tmp_path, bao):
    path = 'shared-%s/{name}' % tmp_path.name
    bao.kv_write(path.replace('{name}', 'Webhooks'), other_site_document())
    with pytest.raises(SecretStoreConflictError) as refused:  # checked for the whole batch, before its first write
        apply(sim, tmp_path, vault_option(bao, path), [webhook_item()])
    msg = refused.value.full_message()
    assert 'of another site' in msg and 'secret_store.path has no {site}' in msg and 'was not created' in msg, msg
    assert 'put {site} in secret_store.path' in msg
    assert clients_named(sim, 'Webhooks') == [] and 'AddClient' not in [e['endpoint'] for e in sim.log()]
    assert bao.kv_metadata(path.replace('{name}', 'Webhooks'))['current_version'] == 1


def test_a_vault_document_of_another_site_is_not_replaced_by_a_read_back(sim, tmp_path, bao):
    sim.configure(creatio_version='8.1')
    path = 'shared-rb-%s/{name}' % tmp_path.name
    _run, first = apply(sim, tmp_path, vault_option(bao, path), [webhook_item()])
    assert item_result(first)['secret_store']['version'] == 1, first
    bao.kv_write(path.replace('{name}', 'Webhooks'), other_site_document())  # version 2: the other site's
    _run, second = apply(sim, tmp_path, vault_option(bao, path), [webhook_item(recover_secret=True)])
    assert item_result(second).get('failed') is True and '{site}' in item_result(second)['msg'], second
    metadata = bao.kv_metadata(path.replace('{name}', 'Webhooks'))
    assert metadata['current_version'] == 2
    assert bao.kv_read(path.replace('{name}', 'Webhooks'))['creatio_url'] == OTHER_SITE


# --- a run that gave way -----------------------------------------------------------------------------

def _rival_of(name, landed):
    """Another controller's AddClient of ``name`` lands, stamped in the same (whole) second as this run's
    creation and with an Id that sorts first: by the rule, the rival's is the one that stays."""
    def action(sim):
        own = clients_named(sim, name)
        assert len(own) == 1, own
        landed.append(sim.add_client(name, application_url='https://hooks.example.com', record_id=RIVAL_ID,
                                     created_on=own[0]['createdOn']))
    return action


@pytest.mark.parametrize('kind', ['vault', 'files'])
def test_a_run_that_gave_way_takes_back_the_secret_it_delivered(sim, tmp_path, bao, kind):
    sim.configure(stamp_precision='second')
    store_dir = tmp_path / 'store'
    store_dir.mkdir(mode=0o700)
    path = 'race-%s/{name}' % tmp_path.name
    option = vault_option(bao, path) if kind == 'vault' else files_option(store_dir)
    landed = []
    # right before the second AddClient: the first item was created, read back (alone) and delivered
    sim.trigger('AddClient', _rival_of('Tie-one', landed), skip=1, label='rival')
    run, result = apply(sim, tmp_path, option, [webhook_item('Tie-one'), webhook_item('Tie-two')])
    assert len(landed) == 1, 'the rival never landed'
    assert [c['clientId'] for c in clients_named(sim, 'Tie-one')] == [landed[0]['clientId']]
    gave_way = item_result(result, 'Tie-one')
    assert [op['call'] for op in gave_way['operations']][:2] == ['AddClient', 'DeleteClient'], gave_way
    deleted = [op['request']['clientId'] for op in gave_way['operations'] if op['call'] == 'DeleteClient'][0]
    if kind == 'vault':
        metadata = bao.kv_metadata(path.replace('{name}', 'Tie-one'))
        assert metadata['current_version'] == 1 and metadata['versions']['1']['deletion_time'], metadata
    else:
        assert not os.path.exists(str(store_dir / 'Tie-one.json'))
    assert gave_way['secret_store']['withdrawn'] == deleted and gave_way['secret_store']['gave_way'] is True, gave_way
    warnings = ' '.join(run.warnings)
    assert 'was taken back' in warnings and 'delivered there by the other run' in warnings, warnings
    assert item_result(result, 'Tie-two')['secret_store']['changed'] is True  # the other item is untouched
    assert report.action_of(gave_way) == 'adopted'


def test_giving_way_never_touches_a_document_of_another_client(sim, tmp_path, bao):
    """The survivor's run wrote its secret there after this run: left as it is."""
    sim.configure(stamp_precision='second')
    path = 'race-other-%s/{name}' % tmp_path.name
    landed = []

    def rival_and_its_delivery(sim_):
        _rival_of('Tie-one', landed)(sim_)
        bao.kv_write(path.replace('{name}', 'Tie-one'), {'name': 'Tie-one', 'client_id': landed[0]['clientId'],
                                                         'client_secret': 'survivor-secret-1234', 'creatio_url': sim.url})
    sim.trigger('AddClient', rival_and_its_delivery, skip=1, label='rival')
    _run, result = apply(sim, tmp_path, vault_option(bao, path), [webhook_item('Tie-one'), webhook_item('Tie-two')])
    assert len(landed) == 1
    held = bao.kv_read(path.replace('{name}', 'Tie-one'))
    assert held['client_id'] == landed[0]['clientId'] and bao.kv_metadata(path.replace('{name}', 'Tie-one'))['current_version'] == 2
    assert 'withdrawn' not in item_result(result, 'Tie-one')['secret_store']


def test_the_report_calls_an_item_that_gave_way_adopted():
    created = {'changed': True, 'operations': [{'call': 'AddClient', 'summary': 'create'}]}
    gave_way = {'changed': True, 'operations': [{'call': 'AddClient', 'summary': 'create'},
                                                {'call': 'DeleteClient', 'summary': 'delete: another run created it'}]}
    recreated = {'changed': True, 'operations': [{'call': 'DeleteClient', 'summary': 'delete'},
                                                 {'call': 'AddClient', 'summary': 'create'}]}
    assert report.action_of(created) == 'created'
    assert report.action_of(gave_way) == 'adopted'
    assert report.action_of(recreated) == 'created'
    # created, then a retired predecessor of the name deleted by its rotation: no race
    retired_deleted = {'changed': True, 'rotation': {'rotated': False},
                       'operations': [{'call': 'AddClient', 'summary': 'create'},
                                      {'call': 'DeleteClient', 'summary': 'delete X (retired ..., rotated), retired by a rotation'}]}
    assert report.action_of(retired_deleted) == 'created'
    entries, lines = report.build([_Declared('Tie-one')], [gave_way], False, None)
    assert entries[0]['action'] == 'adopted' and entries[0]['secret_file'] is None
    assert '1 adopted (another run created the same name at the same time' in lines[0], lines[0]


class _Declared(object):
    def __init__(self, name):
        self.name, self.preset, self.secret_file = name, 'webhooks', None
        self.desired = Declaration(name=name, state='present', grant_type='client_credentials')


# --- two runs rotating the same integration ----------------------------------------------------------

def _during_first_successor_delivery(monkeypatch, predecessor_id, other_run):
    """``other_run()`` runs once, right before this run delivers its successor's secret (after the rename,
    AddClient and the token check): another controller with a facts cache of its own."""
    original = VaultKv2Store.deliver
    fired = []

    def deliver(self, path, document, previous_client_id=None, expected_version=None):
        if not fired and document['client_id'] != predecessor_id:
            fired.append(True)
            other_run()
        if expected_version is None:
            return original(self, path, document, previous_client_id)
        return original(self, path, document, previous_client_id, expected_version)
    monkeypatch.setattr(VaultKv2Store, 'deliver', deliver)
    return fired


def rotation_item(days):
    return webhook_item('Rotated', rotate_after_days=days, rotation_grace_hours=24)


def test_a_run_rolling_back_anothers_unfinished_rotation_wins_over_its_late_delivery(sim, tmp_path, bao, monkeypatch):
    path = 'rot-%s/{name}' % tmp_path.name
    option = vault_option(bao, path)
    kv = path.replace('{name}', 'Rotated')
    _run, first = apply(sim, tmp_path, option, [rotation_item(0)])
    (predecessor,) = [c['clientId'] for c in clients_named(sim, 'Rotated')]
    assert bao.kv_read(kv)['client_id'] == predecessor
    other = {}

    def other_run():  # it sees a retired predecessor and a successor the store does not hold: it rolls back
        other['run'], other['result'] = apply(sim, tmp_path, option, [rotation_item(365)], cache='other-cache')
    fired = _during_first_successor_delivery(monkeypatch, predecessor, other_run)
    run, result = apply(sim, tmp_path, option, [rotation_item(0)])
    assert fired, 'the other run never ran'
    assert 'rolled back' in ' '.join(other['run'].warnings), other['run'].warnings
    # the other run's roll back wins: this run's successor is gone, and the store never holds its secret
    assert [c['clientId'] for c in clients_named(sim, 'Rotated')] == [predecessor]
    assert bao.kv_read(kv)['client_id'] == predecessor, bao.kv_read(kv)['client_id']
    failed = item_result(result, 'Rotated')
    assert failed.get('failed') is True and 'the rotation was rolled back' in failed['msg'], failed
    assert 'written by another run since this run read it' in failed['msg'], failed['msg']
    assert [c for c in sim.state()['clients'] if c['name'].startswith('Rotated (retired')] == []


def test_a_run_that_finds_another_runs_successor_in_the_store_gives_way(sim, tmp_path, bao, monkeypatch):
    """The other run rolls this run's unfinished rotation back, then rotates itself and delivers its successor
    before this run's delivery: this run deletes only its own successor and adopts the other's."""
    path = 'rot-gw-%s/{name}' % tmp_path.name
    option = vault_option(bao, path)
    kv = path.replace('{name}', 'Rotated')
    apply(sim, tmp_path, option, [rotation_item(0)])
    (predecessor,) = [c['clientId'] for c in clients_named(sim, 'Rotated')]
    other = {}

    def other_run():
        other['run'], other['result'] = apply(sim, tmp_path, option, [rotation_item(0)], cache='other-cache')
    _during_first_successor_delivery(monkeypatch, predecessor, other_run)
    run, result = apply(sim, tmp_path, option, [rotation_item(0)])
    (survivor,) = [c['clientId'] for c in clients_named(sim, 'Rotated')]
    assert survivor != predecessor and item_result(other['result'], 'Rotated')['rotation']['rotated'] is True
    assert bao.kv_read(kv)['client_id'] == survivor
    adopted = item_result(result, 'Rotated')
    assert not adopted.get('failed'), adopted
    assert adopted['client']['client_id'] == survivor and adopted['rotation']['gave_way_to'] == survivor, adopted
    assert adopted['rotation']['rotated'] is False
    assert 'adopted that one' in ' '.join(run.warnings), run.warnings
    retired = [c for c in sim.state()['clients'] if c['name'].startswith('Rotated (retired')]
    assert [c['clientId'] for c in retired] == [predecessor]  # one predecessor, retiring; nothing else deleted


# --- the store operations themselves -----------------------------------------------------------------

def _vault_store(server, token=None):
    from ansible_collections.creatio.oauth.plugins.module_utils._secret_store import secret_store_from_option
    return secret_store_from_option({'type': 'vault_kv2', 'url': server.url, 'token': token or server.root_token}, timeout=5,
                                    environ={})


def _document(client_id, name='Coordinated'):
    return {'name': name, 'client_id': client_id, 'client_secret': 'secret-of-%s' % client_id, 'creatio_url': OTHER_SITE}


def test_withdraw_deletes_only_the_version_it_wrote_and_only_while_it_holds_that_client(bao):
    store = _vault_store(bao)
    path = store.location('withdraw.example.com', 'Coordinated')
    written = store.deliver(path, _document('client-1'))
    assert store.current_holder(path) == {'client_id': 'client-1', 'name': 'Coordinated', 'creatio_url': OTHER_SITE,
                                          'version': 1}
    assert store.withdraw(path, 'client-2', version=written['version']) is False  # another client: never touched
    bao.kv_write(path, _document('client-2'))  # another run wrote version 2
    assert store.withdraw(path, 'client-1', version=written['version']) is False
    assert bao.kv_read(path)['client_id'] == 'client-2' and bao.kv_metadata(path)['current_version'] == 2
    store.deliver(path, _document('client-3'), previous_client_id='client-2')  # version 3
    assert store.withdraw(path, 'client-3', version=2) is False  # not the version this run wrote
    assert store.withdraw(path, 'client-3', version=3) is True
    metadata = bao.kv_metadata(path)
    assert metadata['versions']['3']['deletion_time'] and not metadata['versions']['2']['deletion_time']
    assert store.current_holder(path) is None


def test_a_delivery_expecting_the_version_read_before_is_refused_after_another_write(bao):
    from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_base import SecretStoreConflictError as Conflict
    store = _vault_store(bao)
    path = store.location('expect.example.com', 'Coordinated')
    store.deliver(path, _document('predecessor'))
    assert store.fence(path, 'predecessor') is True  # the same document again: version 2
    assert bao.kv_metadata(path)['current_version'] == 2 and bao.kv_read(path)['client_id'] == 'predecessor'
    with pytest.raises(Conflict) as refused:
        store.deliver(path, _document('successor'), previous_client_id='predecessor', expected_version=1)
    assert 'written by another run since this run read it (version 1 then, 2 now' in refused.value.message
    assert 'secret-of-predecessor' not in refused.value.full_message()
    assert store.fence(path, 'someone-else') is False
    assert store.deliver(path, _document('successor'), previous_client_id='predecessor', expected_version=2)['version'] == 3


def test_without_the_delete_permission_giving_way_warns_and_leaves_the_document(sim, tmp_path, bao):
    from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.vault_server import CREATIO_POLICY
    bao.ok('POST', 'sys/policies/acl/creatio-no-delete', {'policy': CREATIO_POLICY})
    token = bao.token(['creatio-no-delete'])
    sim.configure(stamp_precision='second')
    landed = []
    sim.trigger('AddClient', _rival_of('Tie-one', landed), skip=1, label='rival')
    option = {'type': 'vault_kv2', 'url': bao.url, 'token': token}
    run, result = apply(sim, tmp_path, option, [webhook_item('Tie-one'), webhook_item('Tie-two')])
    assert len(landed) == 1
    gave_way = item_result(result, 'Tie-one')
    assert gave_way['secret_store']['gave_way'] is True and 'withdrawn' not in gave_way['secret_store'], gave_way
    warnings = ' '.join(run.warnings)
    assert 'could not be checked or cleared of the deleted client' in warnings, warnings
    assert token not in json.dumps(result) and token not in warnings


# --- a document that does not say its site ---------------------------------------------------------

def test_a_document_without_its_site_holding_the_replaced_client_is_rotated_over(sim, tmp_path):
    """A secret file written by client_secret_file (no creatio_url), taken over as a files store: the client id
    this site gave the integration is proof enough that the document is its own; a rotation replaces it."""
    store_dir = tmp_path / 'store'
    store_dir.mkdir(mode=0o700)
    _run, first = apply(sim, tmp_path, files_option(store_dir), [webhook_item()])
    assert not first.get('failed'), first
    path = str(store_dir / 'Webhooks.json')
    old = json.load(open(path))
    with open(path, 'w') as handle:  # as secrets_dir wrote it: name, client id, secret, token URL
        json.dump(dict((k, old[k]) for k in ('name', 'client_id', 'client_secret')), handle)
    _run, second = apply(sim, tmp_path, files_option(store_dir), [webhook_item(rotate_after_days=0, rotation_grace_hours=0)])
    rotated = item_result(second)
    assert not rotated.get('failed'), rotated
    new = json.load(open(path))
    assert new['client_id'] != old['client_id'] and new['creatio_url'], new
    assert [c['clientId'] for c in clients_named(sim, 'Webhooks')] == [new['client_id']]


def test_a_document_of_another_site_is_refused_even_with_the_replaced_client_id(sim, tmp_path):
    store_dir = tmp_path / 'store'
    store_dir.mkdir(mode=0o700)
    _run, first = apply(sim, tmp_path, files_option(store_dir), [webhook_item()])
    path = str(store_dir / 'Webhooks.json')
    mine = json.load(open(path))
    foreign = other_site_document(client_id=mine['client_id'])
    with open(path, 'w') as handle:
        json.dump(foreign, handle)
    sim.clear_log()
    _run, second = apply(sim, tmp_path, files_option(store_dir), [webhook_item(rotate_after_days=0, rotation_grace_hours=0)])
    refused = item_result(second)
    assert refused.get('failed') is True and OTHER_SITE in refused['msg'], refused
    assert json.load(open(path)) == foreign
    assert not [e for e in sim.log() if e['endpoint'] in ('AddClient', 'DeleteClient', 'UpdateClient')]
