# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The local facts cache: what this collection knows about each Creatio site.

One JSON document per site (FactsCache), each a _json_file.JsonFile (locked read-modify-write,
atomic replacement). A corrupt file or an unknown schema version
is an error naming the file: it is never silently replaced, because it is the only place where
redirect URI ids live.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import copy
import errno
import hashlib
import os
import re

from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError
from ansible_collections.creatio.oauth.plugins.module_utils._json_file import (
    UNCHANGED, JsonFile, age_of, exclusive_flock, keep_aside, now_iso, open_to_others)

SECRET_KEYS = ('secret', 'password', 'token', 'cookie', 'csrf')
# A record put again unchanged is not rewritten while its confirmed_at is younger than this: a re-run
# with nothing to do then writes nothing (no locked rewrite and fsync per integration), and
# confirmed_at stays true to within this much. A changed record is always written at once.
RECONFIRM_AFTER = 3600


class FactsCache(object):
    """Clients by site and name. ``site`` is the normalised creatio_url.

    One file per site, in the folder ``sites_folder(path)`` beside ``path`` (``facts.json`` ->
    ``facts.sites/``): runs on different sites (forks over an inventory of sites) never wait for each
    other's lock, and each run parses and rewrites only its own site's facts. Each file is a facts
    document of schema version 1 that holds one site. ``path`` itself is the single document of
    earlier versions: the first run that may write moves its sites to their own files and renames it
    ``<path>.migrated`` (kept, never overwritten); until then (check mode) it is read where a site
    has no file of its own.
    """

    def __init__(self, path):
        self.path = path
        self.legacy = JsonFile(path)
        self.folder = sites_folder(path)
        self._files = {}

    def site_file(self, site):
        """The JsonFile that holds ``site``."""
        found = self._files.get(site)
        if found is None:
            found = self._files[site] = JsonFile(os.path.join(self.folder, site_file_name(site)))
        return found

    def check_usable(self, writable):
        self.legacy.check_usable(writable)
        if writable and os.path.exists(self.path):
            self.migrate()

    def open_folder_warning(self):
        """A warning when other users may open the folder of the facts cache: beside it are sessions.json
        (the session cookies or access token of the last login) and the client secrets kept after a
        failed write (kept-secrets/), each 0600, but their names and any copy made beside them would show."""
        folder = os.path.dirname(os.path.abspath(self.path))
        mode = open_to_others(folder)
        if mode is None:
            return None
        return ('cache_path: the folder %s of the facts cache, which also holds sessions.json (the session cookies or access '
                'token of the last login), is one that other users can open (mode %04o): make it readable by its owner only '
                '(chmod 700 %s)' % (folder, mode, folder))

    def _site(self, site):
        """The site's entry as stored (shared: callers copy what they keep)."""
        own = self.site_file(site)
        entry = own.read_shared().get('sites', {}).get(site)
        if entry is None and os.path.exists(self.path):
            entry = self.legacy.read_shared().get('sites', {}).get(site)
            if entry is None:  # migrated meanwhile by another run: its file is there now
                entry = own.read_shared().get('sites', {}).get(site)
        return entry or {}

    def clients(self, site):
        return copy.deepcopy(self._site(site).get('clients', {}))

    def get(self, site, name):
        # Only the one record is copied (clients() copies them all: 10x slower at 5,000 clients).
        return copy.deepcopy(self._site(site).get('clients', {}).get(name))

    def put(self, site, name, record):
        assert_no_secret(record)
        stored = copy.deepcopy(record)
        stored['confirmed_at'] = now_iso()
        if _same_and_recent(self._site(site).get('clients', {}).get(name), stored):
            return  # see RECONFIRM_AFTER: not even the lock is taken (checked again under it below otherwise)

        def mutate(document):
            clients = document.setdefault('sites', {}).setdefault(site, {}).setdefault('clients', {})
            if _same_and_recent(clients.get(name), stored):
                return UNCHANGED
            clients[name] = stored
            return None
        self._update(site, mutate)

    def site_fact(self, site, key):
        """What the cache learned about a site itself (where its API lives), or None."""
        return copy.deepcopy(self._site(site).get('facts', {}).get(key))

    def put_site_fact(self, site, key, value):
        if self._site(site).get('facts', {}).get(key) == value:
            return  # unchanged: neither written nor locked

        def mutate(document):
            facts = document.setdefault('sites', {}).setdefault(site, {}).setdefault('facts', {})
            if facts.get(key) == value:
                return UNCHANGED
            facts[key] = value
            return None
        self._update(site, mutate)

    def delete(self, site, name):
        def mutate(document):
            clients = document.get('sites', {}).get(site, {}).get('clients', {})
            if name not in clients:
                return UNCHANGED
            clients.pop(name)
            return None
        self._update(site, mutate)

    def _update(self, site, mutate):
        if os.path.exists(self.path):
            self.migrate()
        self.legacy.ensure_directory()
        self.site_file(site).update(mutate)

    def migrate(self):
        """Move every site of the single document of earlier versions to its own file, then rename
        that document ``<path>.migrated`` (or ``<path>.migrated.<time>``: never overwritten). A site
        that already has a file keeps it; what the old document said of it stays in the renamed file."""
        with self.legacy.locked():
            if not os.path.exists(self.path):
                return  # another run did it meanwhile
            document = self.legacy.read()
            for site, entry in sorted(document.get('sites', {}).items()):
                def seed(own, site=site, entry=entry):
                    if site in own.get('sites', {}):
                        return UNCHANGED
                    own.setdefault('sites', {})[site] = entry
                    return None
                self.site_file(site).update(seed)
            keep_aside(self.path, self.path + '.migrated', 'cache_path')

    @contextlib.contextmanager
    def name_lock(self, site, name):
        """Serialises lookup-then-create for one integration across processes, so that two runs
        racing on one name cannot both decide to create it."""
        self.legacy.ensure_directory()
        digest = hashlib.sha256(('%s\n%s' % (site, name)).encode('utf-8')).hexdigest()[:32]
        lock_dir = self.path + '.locks'
        try:
            os.mkdir(lock_dir, 0o700)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise CacheError('cache_path: cannot create %s (%s)' % (lock_dir, exc.strerror), path=self.path)
        if os.path.islink(lock_dir) or not os.path.isdir(lock_dir):
            raise CacheError('cache_path: %s is not a folder of the collection (a symbolic link, or a file)' % lock_dir,
                             path=self.path, hint='remove it: the collection makes it itself')
        with exclusive_flock(os.path.join(lock_dir, digest + '.lock'), 'cache_path', self.path):
            yield


def sites_folder(path):
    """The folder of the per-site files of the facts cache ``path``: ``facts.json`` -> ``facts.sites``."""
    return os.path.splitext(os.path.abspath(path))[0] + '.sites'


def site_file_name(site):
    """A site's file: its host and path, readable, and a hash of the whole site URL (unique)."""
    readable = re.sub(r'[^A-Za-z0-9.-]+', '_', re.sub(r'^[A-Za-z]+://', '', site)).strip('_')[:60]
    return '%s-%s.json' % (readable or 'site', hashlib.sha256(site.encode('utf-8')).hexdigest()[:12])


def _same_and_recent(current, stored):
    """``current`` (on disk) says what ``stored`` says, and was confirmed less than RECONFIRM_AFTER ago."""
    if not current:
        return False
    age = age_of(current.get('confirmed_at'))
    if age is None or not 0 <= age < RECONFIRM_AFTER:
        return False
    return (dict((k, v) for k, v in current.items() if k != 'confirmed_at')
            == dict((k, v) for k, v in stored.items() if k != 'confirmed_at'))


def assert_no_secret(record):
    """Defence in depth: a record with a secret-looking key never reaches the disk."""
    for key in record:
        if any(word in str(key).lower() for word in SECRET_KEYS):
            raise CacheError('refusing to write the key %r to the facts cache' % key,
                             hint='this is a bug in creatio.oauth: please report it')
