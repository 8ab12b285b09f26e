# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The session store: per site and identity, beside the facts cache, forgiving of damage."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


import binascii
import json
import os
import stat
import time

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _session_store as session_store
from ansible_collections.creatio.oauth.plugins.module_utils._session_store import SessionStore
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import forms_login, oauth_login

SITE = 'https://site.example'


def forms_state(age=0):
    return {'kind': 'forms', 'cookies': {'.ASPXAUTH': 'aspx', 'BPMCSRF': 'csrf'}, 'logged_in_at': time.time() - age}


def test_file_beside_the_cache_with_mode_0600(tmp_path):
    store = SessionStore(str(tmp_path / 'cache' / 'sessions.json'))
    assert store.file.path == str(tmp_path / 'cache' / 'sessions.json')
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    assert stat.S_IMODE(os.stat(store.file.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / 'cache')).st_mode) == 0o700
    assert not (tmp_path / 'cache' / 'facts.json').exists()  # the facts cache itself is not touched


def test_save_load_drop_per_site_and_identity(tmp_path):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    state = forms_state()
    store.save(SITE, 'forms:alice', state, 'pw')
    assert store.load(SITE, 'forms:alice', 'pw') == state
    assert store.load(SITE, 'forms:bob', 'pw') is None
    assert store.load('https://other.example', 'forms:alice', 'pw') is None
    with open(store.file.path) as handle:
        document = json.load(handle)
    # keys are hashes: neither the site nor the user name is in the file as a key
    assert all(len(k) == 64 for k in document['sessions'])
    store.drop(SITE, 'forms:alice')
    assert store.load(SITE, 'forms:alice', 'pw') is None
    store.drop(SITE, 'forms:never-saved')


def test_a_session_is_reused_only_with_the_credential_it_was_obtained_with(tmp_path):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    store.save(SITE, 'forms:alice', forms_state(), 'the-right-password')
    assert store.load(SITE, 'forms:alice', 'the-right-password')['kind'] == 'forms'
    assert store.load(SITE, 'forms:alice', 'definitely-wrong') is None
    assert store.load(SITE, 'forms:alice', '') is None
    text = (tmp_path / 'sessions.json').read_text()
    assert 'the-right-password' not in text  # only a salted, keyed hash of it
    entry = list(json.loads(text)['sessions'].values())[0]
    assert sorted(entry['credential']) == ['hmac_sha256', 'salt']
    assert len(entry['credential']['salt']) == 32 and len(entry['credential']['hmac_sha256']) == 64
    # a second save salts anew: the same password never gives the same stored hash
    store.save(SITE, 'forms:alice', forms_state(), 'the-right-password')
    again = list(json.loads((tmp_path / 'sessions.json').read_text())['sessions'].values())[0]
    assert again['credential']['salt'] != entry['credential']['salt']
    # a session stored by an older version, without a hash, is not trusted
    document = json.loads((tmp_path / 'sessions.json').read_text())
    for value in document['sessions'].values():
        value.pop('credential')
    (tmp_path / 'sessions.json').write_text(json.dumps(document))
    assert store.load(SITE, 'forms:alice', 'the-right-password') is None


def test_old_forms_session_is_not_used(tmp_path):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    store.save(SITE, 'forms:alice', forms_state(age=session_store.MAX_SESSION_AGE + 5), 'pw')
    assert store.load(SITE, 'forms:alice', 'pw') is None
    store.save(SITE, 'forms:alice', forms_state(age=session_store.MAX_SESSION_AGE - 60), 'pw')
    assert store.load(SITE, 'forms:alice', 'pw') is not None


def test_token_state_is_loaded_whatever_its_age(tmp_path):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    state = {'kind': 'oauth', 'token': 'tok', 'expires_at': time.time() - 10}
    store.save(SITE, 'oauth:cid', state, 'pw')
    assert store.load(SITE, 'oauth:cid', 'pw') == state
    login = oauth_login('https://is.example', 'cid', 'secret')
    login.import_state(state)
    assert login.token == 'tok' and not login.is_fresh()  # an expired token is renewed, not used


def test_damaged_file_costs_only_a_login_and_is_replaced(tmp_path):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    with open(store.file.path, 'w') as handle:
        handle.write('{not json')
    assert store.load(SITE, 'forms:alice', 'pw') is None
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    assert store.load(SITE, 'forms:alice', 'pw')['kind'] == 'forms'
    with open(store.file.path, 'w') as handle:
        json.dump({'schema_version': 99}, handle)
    assert store.load(SITE, 'forms:alice', 'pw') is None
    store.drop(SITE, 'forms:alice')
    with open(store.file.path) as handle:
        assert json.load(handle)['schema_version'] == 1


def test_unwritable_store_is_quiet(tmp_path):
    store = SessionStore('/proc/creatio-oauth-test/sessions.json')
    store.save(SITE, 'forms:alice', forms_state(), 'pw')  # no exception: only a login is lost
    assert store.load(SITE, 'forms:alice', 'pw') is None


def test_exported_states_never_hold_the_password_or_secret():
    forms = forms_login(SITE, 'alice', 'the-password')
    forms.cookies = {'.ASPXAUTH': 'aspx'}
    assert 'the-password' not in json.dumps(forms.export_state())
    oauth = oauth_login('https://is.example', 'cid', 'the-client-secret')
    oauth.token = 'tok'
    assert 'the-client-secret' not in json.dumps(oauth.export_state())
    # import of a state of the other kind is ignored
    forms.import_state(oauth.export_state())
    assert forms.cookies == {'.ASPXAUTH': 'aspx'}
    oauth.import_state({'kind': 'forms', 'cookies': {}})
    assert oauth.token == 'tok'


def test_a_link_at_the_session_file_is_never_followed(tmp_path):
    """A link planted at sessions.json (or its lock) would have the session cookies written, or an
    empty file created, wherever it points."""
    folder = tmp_path / 'cache'
    folder.mkdir(mode=0o700)
    target = tmp_path / 'elsewhere.json'
    os.symlink(str(target), str(folder / 'sessions.json.lock'))
    store = SessionStore(str(folder / 'sessions.json'))
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    assert not os.path.lexists(str(target))
    os.unlink(str(folder / 'sessions.json.lock'))
    target.write_text(json.dumps({'schema_version': 1, 'sessions': {}}))
    os.symlink(str(target), str(folder / 'sessions.json'))
    assert store.load(SITE, 'forms:alice', 'pw') is None
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    assert json.loads(target.read_text()) == {'schema_version': 1, 'sessions': {}}  # the link's target is never written
    assert not os.path.islink(str(folder / 'sessions.json')) and store.load(SITE, 'forms:alice', 'pw') is not None


def test_the_verifier_is_keyed_by_a_0600_key_of_the_store(tmp_path):
    """sessions.json alone gives no way to test a guessed password: every guess needs the store's key, which
    sits beside it in a file of its own (mode 0600), made once and kept."""
    store = SessionStore(str(tmp_path / 'sessions.json'))
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    key_file = tmp_path / session_store.KEY_FILE
    assert stat.S_IMODE(os.stat(str(key_file)).st_mode) == 0o600
    key = binascii.unhexlify(key_file.read_text())  # a text file, as every file beside the cache
    assert len(key) == session_store.KEY_BYTES
    entry = list(json.loads((tmp_path / 'sessions.json').read_text())['sessions'].values())[0]
    # the stored verifier is the HMAC under this key; under any other key the right password does not match it
    assert session_store.credential_verifier('pw', key, entry['credential']['salt']) == entry['credential']
    assert session_store.credential_verifier('pw', b'\0' * 32, entry['credential']['salt']) != entry['credential']
    store.save(SITE, 'forms:bob', forms_state(), 'pw')
    assert binascii.unhexlify(key_file.read_text()) == key  # one key per store, never replaced
    # without its key (removed, or a file that is not the store's own) a stored session is not trusted
    os.chmod(str(key_file), 0o644)
    assert store.load(SITE, 'forms:alice', 'pw') is None
    os.chmod(str(key_file), 0o600)
    assert store.load(SITE, 'forms:alice', 'pw') is not None
    key_file.unlink()
    assert store.load(SITE, 'forms:alice', 'pw') is None
    store.save(SITE, 'forms:alice', forms_state(), 'pw')  # the next login makes a new key and is reused again
    assert binascii.unhexlify(key_file.read_text()) != key and store.load(SITE, 'forms:alice', 'pw') is not None


def test_a_session_of_the_pbkdf2_scheme_costs_one_login(tmp_path):
    """An entry written by an earlier version (salted PBKDF2, 50,000 iterations) is not trusted: the run logs in once
    and stores the session with the keyed verifier, which the next run reuses."""
    import hashlib
    store = SessionStore(str(tmp_path / 'sessions.json'))
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    document = json.loads((tmp_path / 'sessions.json').read_text())
    salt = '00' * 16
    old = {'salt': salt, 'iterations': 50000, 'pbkdf2_sha256': binascii.hexlify(
        hashlib.pbkdf2_hmac('sha256', b'pw', salt.encode('ascii'), 50000)).decode('ascii')}
    for value in document['sessions'].values():
        value['credential'] = old
    (tmp_path / 'sessions.json').write_text(json.dumps(document))
    assert store.load(SITE, 'forms:alice', 'pw') is None
    store.save(SITE, 'forms:alice', forms_state(), 'pw')  # what the login that follows does
    assert store.load(SITE, 'forms:alice', 'pw') is not None


def test_a_link_at_the_key_file_is_never_followed(tmp_path):
    """A link planted at sessions.key is never read nor written through: the next save removes the link (not its
    target) and makes a key of the store's own."""
    folder = tmp_path / 'cache'
    folder.mkdir(mode=0o700)
    target = tmp_path / 'elsewhere.key'
    target.write_text('ab' * session_store.KEY_BYTES)
    os.chmod(str(target), 0o600)
    os.symlink(str(target), str(folder / session_store.KEY_FILE))
    store = SessionStore(str(folder / 'sessions.json'))
    assert session_store.read_key(str(folder / session_store.KEY_FILE)) is None
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    assert target.read_text() == 'ab' * session_store.KEY_BYTES  # the link's target is never written
    assert not os.path.islink(str(folder / session_store.KEY_FILE))
    assert store.load(SITE, 'forms:alice', 'pw') is not None


@pytest.mark.parametrize('damage', ['garbage', 'open to others', 'empty'])
def test_a_damaged_key_costs_one_login_and_is_replaced(tmp_path, damage):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    key_file = tmp_path / session_store.KEY_FILE
    if damage == 'garbage':
        key_file.write_text('zz' * session_store.KEY_BYTES)
    elif damage == 'open to others':
        os.chmod(str(key_file), 0o644)
    else:
        key_file.write_text('')
    assert store.load(SITE, 'forms:alice', 'pw') is None  # what the next run finds: it logs in once
    store.save(SITE, 'forms:alice', forms_state(), 'pw')  # and stores the session again, with a new key
    assert stat.S_IMODE(os.stat(str(key_file)).st_mode) == 0o600
    assert store.load(SITE, 'forms:alice', 'pw') is not None


@pytest.mark.parametrize('damaged', [u'\u00e9' * 64, 12345, None, ['a'], {'x': 1}])
def test_a_damaged_verifier_costs_a_login_not_a_failure(tmp_path, damaged):
    store = SessionStore(str(tmp_path / 'sessions.json'))
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    document = json.loads((tmp_path / 'sessions.json').read_text())
    for value in document['sessions'].values():
        value['credential']['hmac_sha256'] = damaged
    (tmp_path / 'sessions.json').write_text(json.dumps(document))
    assert store.load(SITE, 'forms:alice', 'pw') is None


def test_a_key_that_cannot_be_made_is_said_once_not_silently_a_login_per_task(tmp_path):
    sound = SessionStore(str(tmp_path / 'sound' / 'sessions.json'))
    os.makedirs(str(tmp_path / 'sound'))
    sound.save(SITE, 'forms:alice', forms_state(), 'pw')
    assert sound.problem is None and sound.load(SITE, 'forms:alice', 'pw') is not None
    (tmp_path / 'sessions.key').mkdir()  # a folder where the key goes: it cannot be replaced
    store = SessionStore(str(tmp_path / 'sessions.json'))
    store.save(SITE, 'forms:alice', forms_state(), 'pw')
    assert store.load(SITE, 'forms:alice', 'pw') is None
    assert store.problem and 'sessions.key' in store.problem and 'reuse_session' in store.problem


def test_the_run_warns_when_no_session_can_be_kept(sim, tmp_path):
    from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run
    run = make_run(sim, tmp_path)
    key = os.path.join(os.path.dirname(run.connection.session_path), 'sessions.key')
    os.makedirs(os.path.join(key, 'in-the-way'))
    assert run.reader.records() is not None  # a login, then the read
    run.close()
    assert [w for w in run.warnings if 'no login session can be kept' in w and key in w], run.warnings
