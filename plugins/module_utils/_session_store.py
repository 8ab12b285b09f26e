# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Reuse of one Creatio login across the module runs of a playbook.

Each Ansible task is a new process, so without this every task would log in again. The file sits
beside the facts cache (``<cache folder>/sessions.json``, mode 0600 in a 0700 folder) and holds,
per site and login identity, the session cookies or the access token and when they were obtained.
Never the password or the client secret. A refused session is dropped and renewed by the client.
The facts cache itself never holds any of this.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import hashlib
import hmac
import os
import time

from ansible_collections.creatio.oauth.plugins.module_utils._json_file import JsonFile
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError

# Creatio's default session timeout is longer; past this age a stored session is not worth a try.
MAX_SESSION_AGE = 20 * 60
# A stored session is bound to the password or client secret it was obtained with, kept only as a
# salted PBKDF2 hash: a wrong or changed credential never rides on an earlier good login, and the file
# does not make the credential cheap to guess. About 20 ms per module run that reuses a session.
CREDENTIAL_HASH_ITERATIONS = 50000


class SessionStore(object):

    def __init__(self, path):
        self.file = JsonFile(path, option='cache_path (session file)')

    @staticmethod
    def _key(site, identity):
        return hashlib.sha256(('%s\n%s' % (site, identity)).encode('utf-8')).hexdigest()

    def load(self, site, identity, credential):
        """The stored login state, or None: none stored, too old, or obtained with another credential."""
        try:
            entry = self.file.read().get('sessions', {}).get(self._key(site, identity))
        except CacheError:
            return None  # a damaged session file only costs a login
        if not entry or not _same_credential(entry.get('credential'), credential):
            return None
        if entry.get('kind') == 'forms' and time.time() - float(entry.get('logged_in_at') or 0) > MAX_SESSION_AGE:
            return None
        return dict((k, v) for k, v in entry.items() if k != 'credential')

    def save(self, site, identity, state, credential):
        stored = dict(state, credential=_credential_hash(credential))

        def mutate(document):
            document.setdefault('sessions', {})[self._key(site, identity)] = stored
        self._quietly(mutate)

    def drop(self, site, identity):
        def mutate(document):
            document.get('sessions', {}).pop(self._key(site, identity), None)
        self._quietly(mutate)

    def _quietly(self, mutate):
        try:
            self.file.update(mutate)
        except CacheError:
            # A broken session file is replaced: it holds nothing that cannot be had by logging in.
            try:
                os.unlink(self.file.path)
                self.file.update(mutate)
            except (OSError, CacheError):
                pass


def _credential_hash(credential, salt=None):
    salt = salt or binascii.hexlify(os.urandom(16)).decode('ascii')
    digest = hashlib.pbkdf2_hmac('sha256', (credential or '').encode('utf-8'), salt.encode('ascii'), CREDENTIAL_HASH_ITERATIONS)
    return {'salt': salt, 'pbkdf2_sha256': binascii.hexlify(digest).decode('ascii'), 'iterations': CREDENTIAL_HASH_ITERATIONS}


def _same_credential(stored, credential):
    if not isinstance(stored, dict) or not stored.get('salt') or stored.get('iterations') != CREDENTIAL_HASH_ITERATIONS:
        return False  # a session stored without a hash (an older version) is not trusted either
    expected = _credential_hash(credential, stored['salt'])['pbkdf2_sha256']
    return hmac.compare_digest(expected, str(stored.get('pbkdf2_sha256')))
