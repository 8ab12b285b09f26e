# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23: the secret stores on disk. ``ansible_vault_file`` encrypts with ansible-core's vault
code (in a child process, as inside a module) and is checked with the real ``ansible-vault view``
of this venv; ``files`` is the secrets folder that _secret_file writes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store import (
    SecretStoreConflictError, secret_document, secret_store_from_option, site_of,
)

from ansible_collections.creatio.oauth.plugins.module_utils import _secret_store_files as files_mod
from ansible_collections.creatio.oauth.plugins.module_utils._batch import secret_file_of

# The store runs ansible-core's vault code in a child of this Python: it must import there (a venv with
# ansible-core, as on the controller). Said, not hidden, when it does not.
CHILD_HAS_ANSIBLE = subprocess.call([sys.executable, '-c', 'import ansible.parsing.vault'],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0
needs_ansible_in_child = pytest.mark.skipif(not CHILD_HAS_ANSIBLE, reason='ansible-core is not importable in a child of %s'
                                            % sys.executable)

SITE = 'https://crm.example.com/CreatioApp'
SECRET = 'client-secret-5be0c2d9a1f4'
PASSWORD = 'vault-password-for-tests'


def ansible_vault():
    here = os.path.join(os.path.dirname(os.path.abspath(sys.executable)), 'ansible-vault')
    return here if os.path.isfile(here) else shutil.which('ansible-vault')


def view(path, password_file):
    """The plain text, through the real ansible-vault CLI."""
    done = subprocess.run([ansible_vault(), 'view', '--vault-password-file', str(password_file), str(path)],
                          capture_output=True, text=True, env=dict(os.environ, PAGER='cat', ANSIBLE_PAGER='cat'), check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / 'vault-pass'
    path.write_text(PASSWORD + '\n')
    path.chmod(0o600)
    return path


@pytest.fixture
def secrets_dir(tmp_path):
    path = tmp_path / 'secrets'
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def run_command(module_args):
    """The run_command of a real AnsibleModule, as a module passes it to the store."""
    with module_args({}):
        module = AnsibleModule(argument_spec={})
    return module.run_command


def vault_file_store(secrets_dir, password_file, run_command, **option):
    option = dict({'type': 'ansible_vault_file', 'path': str(secrets_dir / '{site}' / '{name}.vault'),
                   'vault_password_file': str(password_file)}, **option)
    return secret_store_from_option(option, environ={}, run_command=run_command)


def document(name, client_id, secret=SECRET):
    return secret_document(name, client_id, secret, SITE, token_url='https://crm.example.com/CreatioApp/connect/token')


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


@needs_ansible_in_child
@pytest.mark.skipif(ansible_vault() is None, reason='no ansible-vault beside this Python or on PATH')
def test_an_ansible_vault_file_is_written_0600_and_opens_with_ansible_vault_view(secrets_dir, password_file, run_command):
    store = vault_file_store(secrets_dir, password_file, run_command)
    path = store.location(site_of(SITE), 'Power BI')
    # the file name rule of the secrets folder (_rules.secret_file_name), with the template's extension
    assert path == str(secrets_dir / 'crm.example.com' / 'CreatioApp' / 'Power_BI+d4347223667f.vault')
    store.check_usable(path)
    assert os.listdir(str(secrets_dir)) == []  # checking wrote nothing
    result = store.deliver(path, document('Power BI', 'client-1'))
    assert result == {'changed': True, 'location': path, 'version': None}
    assert mode_of(path) == 0o600
    assert mode_of(secrets_dir / 'crm.example.com') == 0o700 and mode_of(secrets_dir / 'crm.example.com' / 'CreatioApp') == 0o700
    with open(path) as handle:
        text = handle.read()
    assert text.startswith('$ANSIBLE_VAULT;1.1;AES256') and SECRET not in text
    held = json.loads(view(path, password_file))
    assert held['client_id'] == 'client-1' and held['client_secret'] == SECRET and held['creatio_url'] == SITE
    assert store.current_client_id(path) == 'client-1'
    # no partial file left beside it
    assert os.listdir(os.path.dirname(path)) == ['Power_BI+d4347223667f.vault']


@needs_ansible_in_child
@pytest.mark.skipif(ansible_vault() is None, reason='no ansible-vault beside this Python or on PATH')
def test_a_vault_id_labels_the_file(secrets_dir, password_file, run_command):
    store = vault_file_store(secrets_dir, password_file, run_command, vault_id='creatio')
    path = store.location('s', 'Labelled')
    store.deliver(path, document('Labelled', 'client-2'))
    with open(path) as handle:
        assert handle.readline().strip() == '$ANSIBLE_VAULT;1.2;AES256;creatio'
    assert json.loads(view(path, password_file))['client_id'] == 'client-2'


@needs_ansible_in_child
def test_an_ansible_vault_file_is_never_rewritten_while_it_holds_the_current_client(secrets_dir, password_file, run_command):
    store = vault_file_store(secrets_dir, password_file, run_command)
    path = store.location('s', 'Kept')
    store.deliver(path, document('Kept', 'client-3'))
    before = os.stat(path)
    with open(path, 'rb') as handle:
        text = handle.read()
    again = store.deliver(path, document('Kept', 'client-3', secret='a-different-secret'))
    assert again['changed'] is False
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    with open(path, 'rb') as handle:
        assert handle.read() == text


@needs_ansible_in_child
def test_an_ansible_vault_file_of_another_client_is_refused_for_a_new_integration_and_kept_aside_for_a_replacement(
        secrets_dir, password_file, run_command):
    store = vault_file_store(secrets_dir, password_file, run_command)
    path = store.location('s', 'Replaced')
    store.deliver(path, document('Replaced', 'client-old'))
    with pytest.raises(SecretStoreConflictError) as caught:
        store.deliver(path, document('Replaced', 'client-new', secret='new-secret-value'))
    assert 'holds the secret of client id client-old already' in caught.value.message
    assert SECRET not in caught.value.full_message() and 'new-secret-value' not in caught.value.full_message()
    assert store.current_client_id(path) == 'client-old'
    result = store.deliver(path, document('Replaced', 'client-new', secret='new-secret-value'), previous_client_id='client-old')
    assert result['changed'] is True and result['kept_as'] == path + '.client-old'
    assert store.current_client_id(path) == 'client-new' and mode_of(path) == 0o600
    assert store.current_client_id(path + '.client-old') == 'client-old'
    assert store.warnings and 'kept as %s.client-old' % path in store.warnings[-1]


@needs_ansible_in_child
def test_a_wrong_vault_password_fails_check_usable_before_anything_is_written(secrets_dir, password_file, tmp_path, run_command):
    store = vault_file_store(secrets_dir, password_file, run_command)
    path = store.location('s', 'Other password')
    store.deliver(path, document('Other password', 'client-4'))
    wrong = tmp_path / 'wrong-pass'
    wrong.write_text('not-the-password\n')
    other = vault_file_store(secrets_dir, wrong, run_command)
    with pytest.raises(ConfigurationError) as caught:
        other.check_usable(path)
    assert caught.value.option == 'secret_store.vault_password_file' and 'could not be decrypted' in caught.value.message
    assert 'not-the-password' not in caught.value.full_message() and PASSWORD not in caught.value.full_message()


@needs_ansible_in_child
@pytest.mark.parametrize('password_text, mode', [('', 0o600), ('#!/bin/sh\nexit 3\n', 0o700)])
def test_a_password_file_that_gives_no_password_fails_check_usable(secrets_dir, tmp_path, password_text, mode, run_command):
    bad = tmp_path / 'bad-pass'
    bad.write_text(password_text)
    bad.chmod(mode)
    store = vault_file_store(secrets_dir, bad, run_command)
    with pytest.raises(ConfigurationError) as caught:
        store.check_usable(store.location('s', 'No password'))
    assert caught.value.option == 'secret_store.vault_password_file'
    assert 'the vault password could not be read from %s' % bad in caught.value.message
    assert os.listdir(str(secrets_dir)) == []


@needs_ansible_in_child
def test_a_file_that_is_not_an_ansible_vault_file_is_refused_by_check_usable(secrets_dir, password_file, run_command):
    store = vault_file_store(secrets_dir, password_file, run_command)
    path = store.location('s', 'Foreign')
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as handle:
        handle.write('something else\n')
    with pytest.raises(SecretStoreConflictError) as caught:
        store.check_usable(path)
    assert 'is not an ansible-vault file' in caught.value.message
    with open(path) as handle:
        assert handle.read() == 'something else\n'


@needs_ansible_in_child
def test_a_missing_store_folder_fails_check_usable(tmp_path, password_file, run_command):
    store = vault_file_store(tmp_path / 'missing', password_file, run_command)
    with pytest.raises(ConfigurationError) as caught:
        store.check_usable(store.location('s', 'Nowhere'))
    assert caught.value.option == 'secret_store.path' and 'does not exist' in caught.value.message


def test_without_ansible_core_in_the_modules_python_the_store_says_so(secrets_dir, password_file, monkeypatch, run_command):
    monkeypatch.setattr(files_mod, 'VAULT_HELPER', files_mod.VAULT_HELPER.replace('from ansible.parsing.vault', 'from ansible.no_such'))
    store = vault_file_store(secrets_dir, password_file, run_command)
    with pytest.raises(ConfigurationError) as caught:
        store.check_usable(store.location('s', 'No ansible'))
    assert caught.value.option == 'secret_store.type' and 'needs ansible-core in the Python that runs the module' in caught.value.message
    assert os.listdir(str(secrets_dir)) == []


class RecordingRunCommand(object):
    """A module's run_command that records what each child process was given."""

    def __init__(self, run_command):
        self.run_command = run_command
        self.calls = []

    def __call__(self, args, **kwargs):
        self.calls.append((list(args), dict(kwargs)))
        return self.run_command(args, **kwargs)


@needs_ansible_in_child
def test_the_vault_code_runs_through_the_modules_run_command_with_the_secret_on_stdin_only(secrets_dir, password_file, run_command):
    recorder = RecordingRunCommand(run_command)
    store = vault_file_store(secrets_dir, password_file, recorder)
    path = store.location('s', 'Through stdin')
    store.check_usable(path)
    store.deliver(path, document('Through stdin', 'client-7'))
    assert store.current_client_id(path) == 'client-7'
    actions = [json.loads(kwargs['data'])['action'] for dummy, kwargs in recorder.calls]
    assert actions == ['load', 'encrypt', 'decrypt']
    for args, kwargs in recorder.calls:
        assert args[:2] == [sys.executable, '-c'] and SECRET not in ' '.join(args)
        assert kwargs['binary_data'] is True and kwargs['expand_user_and_vars'] is False and kwargs['handle_exceptions'] is False
        assert SECRET not in json.dumps(kwargs.get('environ_update') or {})
    assert SECRET in json.loads(recorder.calls[1][1]['data'])['text']


@needs_ansible_in_child
def test_a_password_script_that_hangs_ends_the_vault_helper_after_its_timeout(secrets_dir, tmp_path, run_command, monkeypatch):
    monkeypatch.setattr(files_mod, 'VAULT_HELPER_TIMEOUT', 1)
    script = tmp_path / 'hanging-pass'
    script.write_text('#!/bin/sh\nsleep 20\necho never\n')
    script.chmod(0o700)
    store = vault_file_store(secrets_dir, script, run_command)
    started = time.monotonic()
    with pytest.raises(ConfigurationError) as caught:
        store.check_usable(store.location('s', 'Hanging'))
    assert time.monotonic() - started < 15
    assert caught.value.option == 'secret_store.vault_password_file' and 'no answer within 1 seconds' in caught.value.message


def test_the_ansible_vault_file_store_needs_the_modules_run_command(secrets_dir, password_file):
    with pytest.raises(ValueError):
        vault_file_store(secrets_dir, password_file, None)


def test_file_names_are_made_safe_and_stay_in_the_folder(secrets_dir, password_file, run_command):
    store = vault_file_store(secrets_dir, password_file, run_command)
    assert store.location('s', '../../etc/passwd') == str(secrets_dir / 's' / '_.._etc_passwd+3754d6cb3a38.vault')
    for name in ('../x', '..', '.', 'a/b', '/etc/passwd'):
        assert os.path.dirname(store.location('s', name)) == str(secrets_dir / 's'), name
    with pytest.raises(ConfigurationError):
        store.location('..', 'x')


# --- files: today's secrets folder ---------------------------------------------------------------

def test_the_files_store_writes_the_secrets_folder_file_and_never_rewrites_it(secrets_dir):
    store = secret_store_from_option({'type': 'files', 'path': str(secrets_dir / '{name}.json')}, environ={})
    path = store.location(site_of(SITE), 'Power BI')
    # the file the secrets folder (creatio_integrations_secrets_dir) gives it
    assert path == str(secrets_dir / 'Power_BI+d4347223667f.json') == secret_file_of(str(secrets_dir), 'Power BI')
    store.check_usable(path)
    store.deliver(path, document('Power BI', 'client-5'))
    assert mode_of(path) == 0o600
    with open(path) as handle:
        held = json.load(handle)
    assert held['client_id'] == 'client-5' and held['client_secret'] == SECRET and held['token_url'].endswith('/connect/token')
    before = os.stat(path)
    assert store.deliver(path, document('Power BI', 'client-5', secret='other'))['changed'] is False
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
    with pytest.raises(SecretStoreConflictError):
        store.deliver(path, document('Power BI', 'client-6'))
    with open(path) as handle:
        assert json.load(handle)['client_id'] == 'client-5'


def test_the_files_store_refuses_a_file_it_did_not_write(secrets_dir):
    store = secret_store_from_option({'type': 'files', 'path': str(secrets_dir / '{name}.json')}, environ={})
    path = store.location('s', 'Notes')
    with open(path, 'w') as handle:
        handle.write('[1, 2]\n')
    with pytest.raises(ConfigurationError) as caught:
        store.check_usable(path)
    assert 'holds no secret document of this collection' in caught.value.message
