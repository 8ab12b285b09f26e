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

import hashlib
import os
import time

from ansible_collections.creatio.oauth.plugins.module_utils._cache import JsonFile
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError

# Creatio's default session timeout is longer; past this age a stored session is not worth a try.
MAX_SESSION_AGE = 20 * 60


class SessionStore(object):

    def __init__(self, path):
        self.file = JsonFile(path, option='cache_path (session file)')

    @staticmethod
    def _key(site, identity):
        return hashlib.sha256(('%s\n%s' % (site, identity)).encode('utf-8')).hexdigest()

    def load(self, site, identity):
        try:
            entry = self.file.read().get('sessions', {}).get(self._key(site, identity))
        except CacheError:
            return None  # a damaged session file only costs a login
        if not entry:
            return None
        if entry.get('kind') == 'forms' and time.time() - float(entry.get('logged_in_at') or 0) > MAX_SESSION_AGE:
            return None
        return entry

    def save(self, site, identity, state):
        def mutate(document):
            document.setdefault('sessions', {})[self._key(site, identity)] = state
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
