# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A new secret is never lost (issue 20 item 3): nothing is created unless its secret file can be
written (a file name too long for the file system, a folder that cannot take it); and when the file
still cannot be written after AddClient, the secret is kept beside the facts cache, the run fails
saying where, and the next run delivers it, without a second AddClient."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os
import shutil

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils import _integrations as integration
from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, CreatioError

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run, webhook_item as item


def apply(sim, tmp_path, secrets_dir, items, no_log=False):
    run = make_run(sim, tmp_path, clients=items, secrets_dir=str(secrets_dir), verify_tokens=False)
    run.module.no_log = no_log
    return run, batch.apply_many(run)


def writes(sim):
    return [e['endpoint'] for e in sim.log() if e['endpoint'] in ('AddClient', 'UpdateClient', 'DeleteClient', 'AddRedirectUrls')]


def kept_copies(run, name):
    return secret_file.kept_secret_files(secret_file.kept_folder(run.cache.path), run.site, name)


# --- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize('length', [233, 240, 250])
def test_a_long_name_gets_its_secret_file(sim, tmp_path, length):
    """A name of 233-250 characters made the partial file name longer than 255 bytes: the secret was
    lost after AddClient."""
    name = 'L' * length
    secrets = tmp_path / 'secrets'
    _run, result = apply(sim, tmp_path, secrets, [item(name)])
    assert result.get('failed') is not True, result
    files = os.listdir(str(secrets))
    assert len(files) == 1 and json.load(open(str(secrets / files[0])))['name'] == name


def test_names_in_other_scripts_each_get_their_own_file(sim, tmp_path):
    """Every Cyrillic name mapped to ``_.json``: the role refused the batch as a clash."""
    secrets = tmp_path / 'secrets'
    names = [u'Вебхуки', u'Отчёты', u'Power BI', u'Power_BI']
    _run, result = apply(sim, tmp_path, secrets, [item(n) for n in names])
    assert result.get('failed') is not True, result
    held = dict((json.load(open(str(secrets / f)))['name'], f) for f in os.listdir(str(secrets)))
    assert sorted(held) == sorted(names)
    assert held[u'Вебхуки'].startswith(u'Вебхуки+') and held[u'Power_BI'] == 'Power_BI.json'


def test_a_file_named_by_the_earlier_rule_is_still_found(tmp_path):
    """Power_BI.json holding the secret of 'Power BI' (the rule of 0.2.0) stays that integration's file."""
    secrets = tmp_path / 'secrets'
    secrets.mkdir()
    assert batch.secret_file_of(str(secrets), 'Power BI') == str(secrets / rules.secret_file_name('Power BI'))
    (secrets / 'Power_BI.json').write_text(u'{"name": "Power_BI", "client_id": "A"}')  # another integration's
    assert batch.secret_file_of(str(secrets), 'Power BI') == str(secrets / rules.secret_file_name('Power BI'))
    (secrets / 'Power_BI.json').write_text(u'{"name": "Power BI", "client_id": "A"}')
    assert batch.secret_file_of(str(secrets), 'Power BI') == str(secrets / 'Power_BI.json')


# --- checked before any write -----------------------------------------------------------------

def test_a_secret_file_name_too_long_is_refused_before_any_write(sim, tmp_path):
    path = tmp_path / ('s' * 240 + '.json')
    run = make_run(sim, tmp_path)
    with pytest.raises(ConfigurationError) as refused:
        integration.apply(run, integration.declare(rules.expand_preset(item(client_secret_file=str(path)), 'x')[0]))
    assert refused.value.option == 'client_secret_file' and 'too long for the file system' in refused.value.message
    assert writes(sim) == [] and os.listdir(str(tmp_path)) == ['cache']


def test_a_batch_checks_every_secret_file_before_the_first_write(sim, tmp_path, monkeypatch):
    """One item whose file cannot be written, after one that can: neither is created."""
    secrets = tmp_path / 'secrets'
    unwritable = tmp_path / 'locked'
    unwritable.mkdir()
    real_access = os.access
    monkeypatch.setattr(secret_file.os, 'access', lambda p, mode: False if p == str(unwritable) else real_access(p, mode))
    items = [item('Fine'), item('Locked', client_secret_file=str(unwritable / 'Locked.json')),
             item('Long', client_secret_file=str(tmp_path / ('x' * 250)))]
    with pytest.raises(ConfigurationError) as refused:
        apply(sim, tmp_path, secrets, items)
    message = refused.value.message
    assert message.startswith('2 problem(s), nothing was written to Creatio')
    assert 'clients[1] (Locked): client_secret_file %s: this user cannot write in %s' % (unwritable / 'Locked.json', unwritable) in message
    assert 'clients[2] (Long)' in message and 'too long' in message
    assert writes(sim) == [] and not os.path.exists(str(secrets))


def test_a_folder_of_another_user_is_refused(sim, tmp_path):
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    os.chown(str(foreign), 65534, 65534)
    with pytest.raises(ConfigurationError) as refused:
        apply(sim, tmp_path, tmp_path / 'secrets', [item(client_secret_file=str(foreign / 'w.json'))])
    assert 'belongs to another user (uid 65534)' in refused.value.message and writes(sim) == []


def test_an_existing_integration_is_not_held_back_by_its_secret_folder(sim, tmp_path, monkeypatch):
    """Only what this run would create is checked: an unchanged integration needs no writable folder."""
    secrets = tmp_path / 'secrets'
    apply(sim, tmp_path, secrets, [item()])
    monkeypatch.setattr(secret_file.os, 'access', lambda p, mode: False)
    _run, again = apply(sim, tmp_path, secrets, [item()])
    assert again.get('failed') is not True and again['changed'] is False, again


# --- failed after AddClient: kept, reported, delivered by the next run ----------------------------

def test_a_secrets_folder_gone_before_addclient_keeps_the_secret_for_the_next_run(sim, tmp_path):
    secrets = tmp_path / 'secrets'
    sim.trigger('AddClient', lambda s: shutil.rmtree(str(secrets)), label='folder gone')
    run, result = apply(sim, tmp_path, secrets, [item()], no_log=True)
    assert result['failed'] is True
    kept = kept_copies(run, 'Webhooks')
    assert len(kept) == 1 and oct(os.stat(kept[0]).st_mode & 0o777) == oct(0o600)
    secret = json.load(open(kept[0]))['client_secret']
    message = result['msg']
    assert "integration 'Webhooks' was created" in message and 'The secret is kept in %s' % kept[0] in message
    assert 'client_secret return value' not in message and secret not in message
    assert result['integrations'][0]['action'] == 'failed'

    run, again = apply(sim, tmp_path, secrets, [item()], no_log=True)
    assert again.get('failed') is not True, again
    assert json.load(open(str(secrets / 'Webhooks.json')))['client_secret'] == secret
    assert kept_copies(run, 'Webhooks') == [] and any('was completed from %s' % kept[0] in w for w in run.warnings)
    assert writes(sim) == ['AddClient']
    delivered = json.load(open(str(secrets / 'Webhooks.json')))
    assert [c['clientId'] for c in sim.state()['clients'] if c['name'] == 'Webhooks'] == [delivered['client_id']]


def test_check_mode_only_tells_of_a_kept_secret(sim, tmp_path):
    secrets = tmp_path / 'secrets'
    sim.trigger('AddClient', lambda s: shutil.rmtree(str(secrets)), label='folder gone')
    run, _result = apply(sim, tmp_path, secrets, [item()])
    kept = kept_copies(run, 'Webhooks')
    os.makedirs(str(secrets))
    check = make_run(sim, tmp_path, check_mode=True, clients=[item()], secrets_dir=str(secrets), verify_tokens=False)
    batch.apply_many(check)
    assert kept_copies(check, 'Webhooks') == kept and os.listdir(str(secrets)) == []
    assert any('a real run completes %s' % (secrets / 'Webhooks.json') in w for w in check.warnings), check.warnings


def _full_disk_for(folder):
    real = secret_file.write_secret_file

    def write(path, document):
        if os.path.dirname(path) == folder:
            raise CreatioError('client_secret_file %s could not be written (%s)' % (path, os.strerror(errno.ENOSPC)))
        return real(path, document)
    return write


def test_a_disk_that_fills_after_the_check_keeps_the_secret(sim, tmp_path, monkeypatch):
    secrets = tmp_path / 'secrets'
    monkeypatch.setattr(secret_file, 'write_secret_file', _full_disk_for(str(secrets)))
    run, result = apply(sim, tmp_path, secrets, [item()])
    assert result['failed'] is True and 'No space left on device' in result['msg']
    assert len(kept_copies(run, 'Webhooks')) == 1 and os.listdir(str(secrets)) == []
    monkeypatch.undo()
    run, again = apply(sim, tmp_path, secrets, [item()])
    assert again.get('failed') is not True and os.listdir(str(secrets)) == ['Webhooks.json'] and writes(sim) == ['AddClient']


def test_when_nothing_can_take_the_secret_the_message_says_so(sim, tmp_path, monkeypatch):
    """Neither the secret file nor the kept copy: under no_log the message does not send the user to a
    return value the task hides."""
    secrets = tmp_path / 'secrets'
    monkeypatch.setattr(secret_file, 'write_secret_file', _full_disk_for(str(secrets)))
    monkeypatch.setattr(secret_file, 'KEPT_FOLDER', os.path.join('missing', 'kept'))
    _run, hidden = apply(sim, tmp_path, secrets, [item()], no_log=True)
    assert 'could not be kept in' in hidden['msg'] and 'client_secret return value' not in hidden['msg']
    assert 'no_log' in hidden['msg'] and 'state: absent' in hidden['msg']
    _run, shown = apply(sim, tmp_path, secrets, [item('Other')])
    assert 'client_secret return value' in shown['msg'] and shown['clients'][0]['client_secret']


def test_a_run_warns_of_a_cache_folder_others_can_open(sim, tmp_path):
    """The folder of sessions.json (live cookies) and of kept secrets warns as secret folders do."""
    folder = tmp_path / 'cache'
    folder.mkdir()
    os.chmod(str(folder), 0o777)
    run = make_run(sim, tmp_path)
    assert any('cache_path: the folder %s' % folder in w and '(mode 0777)' in w for w in run.warnings), run.warnings
    os.chmod(str(folder), 0o700)
    assert make_run(sim, tmp_path).warnings == []
