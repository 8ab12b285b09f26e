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
import errno
import hashlib
import hmac
import os
import stat
import tempfile
import time

from ansible_collections.creatio.oauth.plugins.module_utils._json_file import NOFOLLOW, UNCHANGED, JsonFile
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError

# Creatio's default session timeout is longer; past this age a stored session is not worth a try.
MAX_SESSION_AGE = 20 * 60
# A stored session is bound to the password or client secret it was obtained with, kept only as a
# verifier: a wrong or changed credential never rides on an earlier good login. The verifier is a salted
# HMAC-SHA256 keyed with a random key of the store (sessions.key beside sessions.json: 32 random bytes in
# hex, mode 0600, made by the first login): sessions.json alone (a copy, a backup, an attachment) gives no way to test a guessed
# password offline, since every guess needs the key; whoever can read the key (the same user, the same
# 0700 folder) can read the sessions themselves. It costs microseconds per module run, where the salted
# PBKDF2 (50,000 iterations) of earlier versions cost about 20 ms; an entry with such a hash (or none) is
# not trusted: the next run logs in once and stores the session with the new verifier.
KEY_FILE = 'sessions.key'
KEY_BYTES = 32


class SessionStore(object):

    def __init__(self, path):
        self.file = JsonFile(path, option='cache_path (session file)')
        self.key_path = os.path.join(os.path.dirname(os.path.abspath(path)), KEY_FILE)
        self.problem = None  # why no session could be stored (for one warning of the run), None when all went well

    @staticmethod
    def _key(site, identity):
        return hashlib.sha256(('%s\n%s' % (site, identity)).encode('utf-8')).hexdigest()

    def load(self, site, identity, credential):
        """The stored login state, or None: none stored, too old, or obtained with another credential."""
        try:
            entry = self.file.read().get('sessions', {}).get(self._key(site, identity))
        except CacheError:
            return None  # a damaged session file only costs a login
        if not entry or not _same_credential(entry.get('credential'), credential, read_key(self.key_path)):
            return None
        if entry.get('kind') == 'forms' and time.time() - float(entry.get('logged_in_at') or 0) > MAX_SESSION_AGE:
            return None
        return dict((k, v) for k, v in entry.items() if k != 'credential')

    def save(self, site, identity, state, credential):
        def mutate(document):
            key = self._key_for_writing()
            if key is None:
                return UNCHANGED  # no key, no stored session: the next run logs in again
            document.setdefault('sessions', {})[self._key(site, identity)] = dict(state, credential=credential_verifier(credential, key))
            return None
        self._quietly(mutate)

    def _key_for_writing(self):
        """The store's key (under the lock of sessions.json), made by the first save. A file at its name that is not
        a usable key (damaged, open to others, a link) is replaced, as a damaged sessions.json is: the sessions stored
        with it cost one login each."""
        try:
            key = read_key(self.key_path) or make_key(self.key_path)
            if key is None:
                os.unlink(self.key_path)  # a link is removed, never followed
                key = make_key(self.key_path)
        except OSError as exc:
            key, reason = None, exc.strerror or str(exc)
        else:
            reason = 'it is not a 0600 file of this user holding a key' if key is None else None
        if key is None:
            self.problem = ('no login session can be kept for the next tasks: the session store\'s key %s cannot be made '
                            '(%s), so every task logs in again; remove it, or set reuse_session: false'
                            % (self.key_path, reason))
        return key

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


def read_key(path):
    """The store's key, or None: none yet, or a file that is not the store's own (not a regular file of this user
    with no permissions for others, or of the wrong size)."""
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077 or info.st_uid != os.geteuid()
                or info.st_size != 2 * KEY_BYTES):
            return None
        text = os.read(fd, 2 * KEY_BYTES + 1)
    finally:
        os.close(fd)
    try:
        key = binascii.unhexlify(text)
    except (TypeError, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def make_key(path):
    """A new random key at ``path`` (mode 0600), whole or absent: written to a temporary file and linked to its
    name, so a run racing this one reads either no key or the whole key, and one of two racing runs keeps the
    other's. The key of the store from then on (None when the name holds something else)."""
    folder = os.path.dirname(path)
    fd, temporary = tempfile.mkstemp(prefix='.sessions-key-', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(binascii.hexlify(os.urandom(KEY_BYTES)))  # text, as every file beside the cache
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
    finally:
        os.unlink(temporary)
    return read_key(path)


def credential_verifier(credential, key, salt=None):
    salt = salt or binascii.hexlify(os.urandom(16)).decode('ascii')
    digest = hmac.new(key, salt.encode('ascii') + b'\n' + (credential or '').encode('utf-8'), hashlib.sha256).hexdigest()
    return {'salt': salt, 'hmac_sha256': digest}


def _same_credential(stored, credential, key):
    """Whether the stored verifier is of this credential. An entry of an earlier version (a PBKDF2 hash, or no hash)
    is not trusted: it costs one login, which stores the session again with this verifier."""
    if key is None or not isinstance(stored, dict) or not stored.get('salt') or not stored.get('hmac_sha256'):
        return False
    try:
        expected = credential_verifier(credential, key, str(stored['salt']))['hmac_sha256']
        # bytes: compare_digest refuses str with characters beyond ASCII (a damaged entry costs a login, no failure)
        return hmac.compare_digest(expected.encode('ascii'), str(stored['hmac_sha256']).encode('utf-8'))
    except (UnicodeError, ValueError, TypeError):
        return False
