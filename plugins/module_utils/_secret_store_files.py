# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The secret stores on local disk: ``files`` (the
secrets folder: one 0600 JSON file per integration, written by _secret_file) and
``ansible_vault_file`` (the same document encrypted with ansible-core's vault code).

ansible-core's vault code cannot be imported inside a module: the AnsiballZ payload shadows the
``ansible`` package with its own module_utils-only copy, and importing ``ansible.parsing.vault``
there breaks the module (even its failure message). It runs in a child process of the module's own
Python instead, started with the module's run_command (module_utils never start processes
themselves), the document and the decrypted text passing through its stdin and stdout only (never
its arguments or environment)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys
import tempfile

from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError, ConfigurationError
from ansible_collections.creatio.oauth.plugins.module_utils._json_file import keep_aside
from ansible_collections.creatio.oauth.plugins.module_utils._rules import secret_file_name
from ansible_collections.creatio.oauth.plugins.module_utils._records import same_client
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_base import (
    SecretStore, SecretStoreConflictError, SecretStoreError, check_relative_path, holder_of, render,
)

VAULT_PARTIAL_SUFFIX = '.vault-partial'  # not _secret_file's suffix: settle_partial_files reads JSON only
VAULT_HELPER_TIMEOUT = 120
# Runs in a fresh interpreter: {"action": "load"|"encrypt"|"decrypt", "password_file", "vault_id", "text"} on stdin,
# {"text"} or {"error"} on stdout. get_file_vault_secret is what ansible-vault uses for --vault-password-file
# (a plain file, or an executable script). run_command has no timeout: the helper ends itself (SIGALRM) when
# the password script or the vault code hangs.
VAULT_HELPER = r'''
import json, signal, sys
class Timeout(Exception):
    pass
def give_up(signum, frame):
    raise Timeout('no answer within %d seconds' % TIMEOUT)
TIMEOUT = int(sys.argv[1])
signal.signal(signal.SIGALRM, give_up)
signal.alarm(TIMEOUT)
request = json.loads(sys.stdin.read())
try:
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultLib, get_file_vault_secret
    vault_id = request.get('vault_id') or 'default'
    secret = get_file_vault_secret(filename=request['password_file'], vault_id=vault_id, loader=DataLoader())
    secret.load()
    vault = VaultLib([(vault_id, secret)])
    if request['action'] == 'encrypt':
        text = vault.encrypt(request['text'].encode('utf-8'), secret=secret,
                             vault_id=request.get('vault_id') or None).decode('utf-8')
    elif request['action'] == 'decrypt':
        text = vault.decrypt(request['text'].encode('utf-8')).decode('utf-8')
    else:
        text = ''
    answer = {'text': text}
except ImportError as exc:
    answer = {'error': 'ansible-core is not importable (%s)' % exc, 'kind': 'import'}
except Exception as exc:
    answer = {'error': '%s: %s' % (exc.__class__.__name__, getattr(exc, 'message', None) or exc), 'kind': 'vault'}
signal.alarm(0)
sys.stdout.write(json.dumps(answer))
'''


class _FileStore(SecretStore):
    """A path template under a root folder: the fixed part of ``secret_store.path`` before its first
    placeholder. Rendered paths stay below it; missing folders below it are made 0700."""

    option = 'secret_store.path'

    def __init__(self, config):
        super(_FileStore, self).__init__(config)
        self.template = os.path.expanduser(config['path'])
        segments = self.template.split('/')
        fixed = []
        for segment in segments[:-1]:
            if '{' in segment:
                break
            fixed.append(segment)
        self.root = '/'.join(fixed) or '/'
        self.tail = self.template[len(self.root):].lstrip('/')

    def location(self, site, name):
        safe_name = secret_file_name(name)[:-len('.json')]
        relative = check_relative_path(render(self.tail, site, safe_name), what='the folder %s' % self.root)
        return os.path.join(self.root, relative)

    def describe(self, path):
        return '%s %s' % (self.type_name, path or self.template)

    def _check_usable(self, path):
        if not os.path.isdir(self.root):
            raise ConfigurationError('%s: the folder %s does not exist' % (self.option, self.root), option=self.option,
                                     hint='create it (mode 0700), or point secret_store.path elsewhere')
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise ConfigurationError('%s: the folder %s is not writable by this user' % (self.option, self.root), option=self.option)
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
            raise ConfigurationError('%s %s exists and is not a regular file' % (self.option, path), option=self.option,
                                     hint='move it away')
        self._check_held(path)

    def _deliver(self, path, document, previous_client_id, expected_version=None):  # no versions: a local folder
        held = self._current_client_id(path)
        if same_client(held, document['client_id']):
            return {'changed': False, 'location': path, 'version': None}
        kept_as = None
        if os.path.lexists(path):
            if not same_client(held, previous_client_id):
                raise self._unexpected_holder(path, held or '(none that this store can read)', document, previous_client_id)
            try:
                kept_as = keep_aside(path, '%s.%s' % (path, secret_file_name(previous_client_id)[:-len('.json')]), self.option)
            except CacheError as exc:
                raise self._error(SecretStoreError, exc.message, path, hint='move the old file away by hand')
            self.warnings.append('%s held the secret of the replaced client id %s: it was kept as %s' % (path, previous_client_id, kept_as))
        self._make_folders(path)
        warning = secret_file.open_folder_warning(path)
        if warning:
            self.warnings.append(warning)
        try:
            self._write(path, document)
        except Exception:
            if kept_as and not os.path.lexists(path):
                # The replacement was not written: the old secret goes back where its consumers read it.
                try:
                    os.link(kept_as, path)
                    os.unlink(kept_as)
                except OSError:
                    pass
            raise
        result = {'changed': True, 'location': path, 'version': None}
        if kept_as:
            result['kept_as'] = kept_as
        return result

    def _check_held(self, path):
        """An existing file must be one this store can read back (else a later run could not tell what it holds)."""

    def _current_holder(self, path):
        return holder_of(self._document(path))

    def _withdraw(self, path, client_id, version):
        if not same_client(self._current_client_id(path), client_id):
            return False
        # Moved out of the way first, then checked again: a file another run put there meanwhile goes back.
        aside = '%s.withdrawn-%d' % (path, os.getpid())
        try:
            os.rename(path, aside)
        except OSError:
            return False
        try:
            ours = same_client((holder_of(self._document(aside)) or {}).get('client_id'), client_id)
        except Exception:  # pylint: disable=broad-except
            # unreadable now (an undecryptable vault file, a damaged document): not taken as ours, put back
            ours = False
        if not ours:
            try:
                os.link(aside, path)
            except OSError:
                self.warnings.append('%s changed while it was being withdrawn: it is kept as %s' % (path, aside))
                return False
            os.unlink(aside)
            return False
        os.unlink(aside)
        return True

    def _make_folders(self, path):
        folder = os.path.dirname(path)
        missing = []
        while not os.path.isdir(folder) and folder.startswith(self.root.rstrip('/') + '/'):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for folder in reversed(missing):
            try:
                os.mkdir(folder, 0o700)
            except OSError as exc:
                if not os.path.isdir(folder):
                    raise self._error(SecretStoreError, 'the folder %s could not be created (%s)' % (folder, exc.strerror), path)

    def _write(self, path, document):
        raise NotImplementedError


class FilesStore(_FileStore):
    """type: files. The document as JSON, written by _secret_file.write_secret_file (0600, whole or
    not at all, never over an existing file)."""

    type_name = 'files'

    def _document(self, path):
        return secret_file.json_object_in(path)

    def _current_client_id(self, path):
        document = secret_file.json_object_in(path)
        client_id = (document or {}).get('client_id')
        return client_id if isinstance(client_id, str) and client_id else None

    def _check_held(self, path):
        if os.path.lexists(path) and self._current_client_id(path) is None:
            raise ConfigurationError('%s %s exists and holds no secret document of this collection' % (self.option, path),
                                     option=self.option, hint='move it away, or point secret_store.path elsewhere')

    def _write(self, path, document):
        try:
            secret_file.write_secret_file(path, document)
        except ConfigurationError as exc:  # the file appeared meanwhile
            raise self._error(SecretStoreConflictError, exc.message, path, hint=exc.hint)


class AnsibleVaultFileStore(_FileStore):
    """type: ansible_vault_file. config keys: path, vault_password_file, vault_id (or None).
    ``run_command``: the module's AnsibleModule.run_command (or a function of its signature), which
    runs ansible-core's vault code in a child process."""

    type_name = 'ansible_vault_file'

    def __init__(self, config, run_command):
        super(AnsibleVaultFileStore, self).__init__(config)
        self.run_command = run_command
        self._held = []  # secrets decrypted from files, scrubbed from errors too

    def _document(self, path):
        return self._decrypted(path)

    def _current_client_id(self, path):
        document = self._decrypted(path)
        client_id = (document or {}).get('client_id')
        return client_id if isinstance(client_id, str) and client_id else None

    def _check_usable(self, path):
        self._vault('load', path)  # the password file gives a password, and ansible-core is there to use it
        super(AnsibleVaultFileStore, self)._check_usable(path)

    def _check_held(self, path):
        self._decrypted(path)

    def _decrypted(self, path):
        if not os.path.isfile(path) or os.path.islink(path):
            return None
        try:
            with open(path) as handle:
                text = handle.read(secret_file.SECRET_FILE_MAX_BYTES + 1)
        except (IOError, OSError) as exc:
            raise self._error(SecretStoreError, '%s cannot be read (%s)' % (path, exc.strerror), path)
        if not text.startswith('$ANSIBLE_VAULT;'):
            raise self._error(SecretStoreConflictError, '%s exists and is not an ansible-vault file' % path, path,
                              hint='move it away, or point secret_store.path elsewhere')
        plain = self._vault('decrypt', path, text)
        try:
            document = json.loads(plain)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise self._error(SecretStoreConflictError, '%s is an ansible-vault file, but not one this collection wrote' % path, path,
                              hint='move it away, or point secret_store.path elsewhere')
        secret = document.get('client_secret')
        if isinstance(secret, str):
            self._held.append(secret)
        return document

    def secrets(self):
        return list(self._held)

    def _write(self, path, document):
        text = self._vault('encrypt', path, json.dumps(document, indent=2, sort_keys=True) + '\n')
        folder = os.path.dirname(path)
        try:
            fd, partial = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix=VAULT_PARTIAL_SUFFIX, dir=folder)
        except OSError as exc:
            raise self._error(SecretStoreError, '%s could not be created (%s)' % (path, exc.strerror), path)
        try:
            with os.fdopen(fd, 'w') as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            # A hard link: never over a file that appeared meanwhile.
            secret_file._publish(partial, path)  # pylint: disable=protected-access
        except ConfigurationError:
            raise self._error(SecretStoreConflictError, '%s appeared while the secret was being written; it was not overwritten'
                              % path, path, hint='check what it holds, then re-run')
        except (IOError, OSError) as exc:
            raise self._error(SecretStoreError, '%s could not be written (%s)' % (path, exc.strerror), path)
        finally:
            secret_file._remove_quietly(partial)  # pylint: disable=protected-access

    def _vault(self, action, path, text=''):
        request = {'action': action, 'password_file': self.config['vault_password_file'],
                   'vault_id': self.config.get('vault_id'), 'text': text}
        args = [sys.executable, '-c', VAULT_HELPER, str(VAULT_HELPER_TIMEOUT)]
        try:
            # binary_data: the request as it is (no newline added); no ~ or $VAR expansion in the helper's code.
            rc, out, dummy = self.run_command(args, data=json.dumps(request), binary_data=True, expand_user_and_vars=False,
                                              handle_exceptions=False)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._error(SecretStoreError, 'ansible-vault (%s) could not be run with %s (%s)'
                              % (action, sys.executable, exc.__class__.__name__), path)
        try:
            answer = json.loads(out)
        except ValueError:
            answer = {'error': 'no answer (exit code %s)' % rc, 'kind': 'vault'}
        if 'error' not in answer:
            return answer['text']
        if answer.get('kind') == 'import':
            raise ConfigurationError(
                'secret_store.type ansible_vault_file needs ansible-core in the Python that runs the module (%s): %s'
                % (sys.executable, answer['error']), option='secret_store.type',
                hint='run the module with the controller\'s Python (ansible_python_interpreter), or use another store type')
        what = {'load': 'the vault password could not be read from', 'decrypt': 'could not be decrypted with the password in',
                'encrypt': 'could not be encrypted with the password in'}[action]
        if action == 'load':
            message = 'secret_store.vault_password_file: %s %s (%s)' % (what, self.config['vault_password_file'], answer['error'])
        else:
            message = '%s %s %s (%s)' % (path, what, self.config['vault_password_file'], answer['error'])
        raise ConfigurationError(message, option='secret_store.vault_password_file',
                                 hint='check secret_store.vault_password_file (or ANSIBLE_VAULT_PASSWORD_FILE) and secret_store.vault_id')
