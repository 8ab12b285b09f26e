# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client secret file is whole or absent: a run killed while writing it (the reliability suite's
killed bootstrap runs once left an empty Webhooks.json) leaves at most a partial file beside it, and
the next run completes the secret file from it when it holds the secret of the integration Creatio
has, or removes it when it holds nothing usable. Check mode only reports."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import json
import multiprocessing
import os
import shutil
import signal

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, CreatioError

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run, webhook_item as item


def apply(sim, tmp_path, secrets_dir, check_mode=False):
    run = make_run(sim, tmp_path, check_mode=check_mode, clients=[item()], secrets_dir=str(secrets_dir), verify_tokens=False)
    return run, batch.apply_many(run)


def _killed_before_publishing(path, document):
    """In a child process: write the secret file, and die by SIGKILL just as it is published."""
    def die(_source, _target):
        os.kill(os.getpid(), signal.SIGKILL)
    secret_file.os.link = die  # the child's copy of the module only
    secret_file.write_secret_file(path, document)


def _kill_while_writing(path, document):
    child = multiprocessing.get_context('fork').Process(target=_killed_before_publishing, args=(path, document))
    child.start()
    child.join(30)
    assert child.exitcode == -signal.SIGKILL


def test_a_write_leaves_only_the_secret_file(tmp_path):
    path = str(tmp_path / 'Webhooks.json')
    secret_file.write_secret_file(path, {'name': 'Webhooks', 'client_secret': 's'})
    assert os.listdir(str(tmp_path)) == ['Webhooks.json']
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600) and os.stat(path).st_nlink == 1
    with pytest.raises(ConfigurationError) as raced:  # a file that appeared after the check: never overwritten
        secret_file.write_secret_file(path, {'name': 'Webhooks', 'client_secret': 'other'})
    assert 'client_secret return value' in raced.value.hint
    assert os.listdir(str(tmp_path)) == ['Webhooks.json'] and json.load(open(path))['client_secret'] == 's'


def test_a_file_system_without_hard_links_gets_the_whole_file_too(tmp_path, monkeypatch):
    def refuse(_source, _target):
        raise OSError(errno.EPERM, 'Operation not permitted')
    monkeypatch.setattr(secret_file.os, 'link', refuse)
    path = str(tmp_path / 'Webhooks.json')
    secret_file.write_secret_file(path, {'name': 'Webhooks', 'client_secret': 's'})
    assert os.listdir(str(tmp_path)) == ['Webhooks.json'] and json.load(open(path)) == {'name': 'Webhooks', 'client_secret': 's'}
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)
    with pytest.raises(ConfigurationError):
        secret_file.write_secret_file(path, {'name': 'Webhooks', 'client_secret': 'other'})
    assert os.listdir(str(tmp_path)) == ['Webhooks.json'] and json.load(open(path))['client_secret'] == 's'


def test_a_kill_while_writing_leaves_no_secret_file_and_a_whole_private_partial(tmp_path):
    path = str(tmp_path / 'Webhooks.json')
    _kill_while_writing(path, {'name': 'Webhooks', 'client_id': 'ABC', 'client_secret': 's'})
    assert not os.path.exists(path)
    partials = secret_file.partial_files(path)
    assert len(partials) == 1 and os.path.basename(partials[0]).startswith('.Webhooks.json.')
    assert oct(os.stat(partials[0]).st_mode & 0o777) == oct(0o600)
    assert json.load(open(partials[0]))['client_secret'] == 's'
    assert secret_file.partial_files(str(tmp_path / 'Clio.json')) == []  # another file's partials are not its own


def _created_then_killed_while_writing(sim, tmp_path):
    secrets = tmp_path / 'secrets'
    _run, first = apply(sim, tmp_path, secrets)
    assert first['integrations'][0]['action'] == 'created', first
    path = secrets / 'Webhooks.json'
    document = json.loads(path.read_text())
    path.unlink()  # the state a killed run leaves: the integration created and recorded, the secret not yet published
    _kill_while_writing(str(path), document)
    assert not path.exists() and len(secret_file.partial_files(str(path))) == 1
    return secrets, path, document


def test_the_next_run_completes_the_secret_file_from_a_whole_partial(sim, tmp_path):
    secrets, path, document = _created_then_killed_while_writing(sim, tmp_path)

    sim.clear_log()
    run, check = apply(sim, tmp_path, secrets, check_mode=True)
    assert check.get('failed') is not True and check['changed'] is True, check
    assert any('a real run completes %s from it' % path in w for w in run.warnings), run.warnings
    assert not path.exists() and len(secret_file.partial_files(str(path))) == 1  # check mode moved nothing
    assert [e for e in sim.log() if e['kind'] == 'write'] == []

    run, again = apply(sim, tmp_path, secrets)
    assert again.get('failed') is not True and again['changed'] is True, again
    assert [e for e in sim.log() if e['kind'] == 'write'] == []  # Creatio was not asked for anything new
    assert json.loads(path.read_text()) == document and oct(os.stat(str(path)).st_mode & 0o777) == oct(0o600)
    assert os.listdir(str(secrets)) == ['Webhooks.json']
    assert any('client_secret_file %s was completed from' % path in w for w in run.warnings), run.warnings
    assert all(document['client_secret'] not in w for w in run.warnings)

    run, third = apply(sim, tmp_path, secrets)
    assert third['changed'] is False and run.warnings == [], (third, run.warnings)


@pytest.mark.parametrize('spoil', ['torn', 'another client'])
def test_a_partial_with_no_usable_secret_is_removed(sim, tmp_path, spoil):
    secrets, path, document = _created_then_killed_while_writing(sim, tmp_path)
    partial = secret_file.partial_files(str(path))[0]
    with open(partial, 'w') as handle:
        if spoil == 'torn':
            handle.write(json.dumps(document)[:20])
        else:
            json.dump(dict(document, client_id='0123456789ABCDEF0123456789ABCDEF'), handle)

    run, again = apply(sim, tmp_path, secrets)
    assert again.get('failed') is not True and again['changed'] is True, again
    assert secret_file.partial_files(str(path)) == [] and not path.exists()  # the secret is lost, as a lost answer's
    assert any('%s, a partial secret file left by a run' % partial in w and 'was removed' in w for w in run.warnings)


def test_a_partial_holding_the_secret_is_kept_when_the_file_holds_something_else(sim, tmp_path):
    secrets, path, document = _created_then_killed_while_writing(sim, tmp_path)
    partial = secret_file.partial_files(str(path))[0]
    path.write_text(u'{"keep": "me"}\n')
    run, again = apply(sim, tmp_path, secrets)
    assert again.get('failed') is not True and again['changed'] is False, again
    assert path.read_text() == u'{"keep": "me"}\n' and json.load(open(partial)) == document  # never a secret lost
    assert any('holds the secret of client id %s' % document['client_id'] in w for w in run.warnings), run.warnings
    assert all(document['client_secret'] not in w for w in run.warnings)


def test_a_second_name_of_the_published_file_is_removed_quietly(sim, tmp_path):
    """A run killed after publishing, before removing its partial: the two names are one file."""
    secrets = tmp_path / 'secrets'
    apply(sim, tmp_path, secrets)
    path = secrets / 'Webhooks.json'
    os.link(str(path), str(secrets / '.Webhooks.json.abcd_123.partial'))
    run, again = apply(sim, tmp_path, secrets)
    assert again['changed'] is False and run.warnings == [] and os.listdir(str(secrets)) == ['Webhooks.json']
    assert json.loads(path.read_text())['name'] == 'Webhooks'


def test_only_its_own_private_unlocked_partials_are_settled(sim, tmp_path):
    secrets, path, document = _created_then_killed_while_writing(sim, tmp_path)
    partial = secret_file.partial_files(str(path))[0]
    text = open(partial).read()
    # the partial of another file whose name starts with this one's: not this file's
    other = secrets / '.Webhooks.json.json.abcd_123.partial'
    other.write_text(u'{"name": "Webhooks.json"}')
    other.chmod(0o600)
    # a partial that its writer still holds (a run at work with another facts cache): left to it
    with open(partial) as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        run, again = apply(sim, tmp_path, secrets)
        assert again['changed'] is False and run.warnings == [] and not path.exists()
    # a partial others can read: not trusted as a secret file, never published nor removed
    os.chmod(partial, 0o644)
    run, again = apply(sim, tmp_path, secrets)
    assert again['changed'] is False and not path.exists() and open(partial).read() == text
    assert any('was left alone' in w for w in run.warnings), run.warnings
    os.chmod(partial, 0o600)
    run, again = apply(sim, tmp_path, secrets)
    assert json.loads(path.read_text()) == document and other.exists()


def test_a_copy_that_fails_on_a_file_system_without_hard_links_leaves_no_file(tmp_path, monkeypatch):
    def refuse(_source, _target):
        raise OSError(errno.EPERM, 'Operation not permitted')
    syncs = []

    def full_disk_on_the_copy(fd):
        syncs.append(fd)
        if len(syncs) == 2:
            raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(secret_file.os, 'link', refuse)
    monkeypatch.setattr(secret_file.os, 'fsync', full_disk_on_the_copy)
    with pytest.raises(CreatioError) as failed:
        secret_file.write_secret_file(str(tmp_path / 'Webhooks.json'), {'name': 'Webhooks', 'client_secret': 's'})
    assert 'client_secret return value' in failed.value.hint and os.listdir(str(tmp_path)) == []


def test_a_partial_is_left_alone_when_which_clients_exist_cannot_be_told(sim, tmp_path):
    """Facts cache lost, OData refused, create_when_unreadable: the run cannot tell whether the partial's client
    still exists; it leaves the whole partial (and its secret) alone, never removes it on a guess."""
    secrets, path, document = _created_then_killed_while_writing(sim, tmp_path)
    partial = secret_file.partial_files(str(path))[0]
    shutil.rmtree(str(tmp_path / 'cache' / 'facts.sites'))  # the facts cache lost (one file per site in there)
    sim.configure(odata_status=403)
    run = make_run(sim, tmp_path, clients=[item(create_when_unreadable=True)], secrets_dir=str(secrets), verify_tokens=False)
    batch.apply_many(run)
    assert secret_file.partial_files(str(path)) == [partial]
    assert json.load(open(partial)) == document
    assert any('%s, a partial secret file left by a run' % partial in w and 'cannot be told' in w for w in run.warnings), \
        run.warnings
