# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The local facts cache: what this collection knows about each Creatio site.

One JSON document per site (FactsCache). Read-modify-write happens under an exclusive flock on a
sibling lock file; writes go to a temporary file that is fsynced and renamed over the old one, so a killed run
leaves the old or the new document, never a torn one. A corrupt file or an unknown schema version
is an error naming the file: it is never silently replaced, because it is the only place where
redirect URI ids live.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import contextlib
import copy
import datetime
import errno
import fcntl
import hashlib
import json
import os
import re
import tempfile
import time

from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError

SCHEMA_VERSION = 1
SECRET_KEYS = ('secret', 'password', 'token', 'cookie', 'csrf')
# A record put again unchanged is not rewritten while its confirmed_at is younger than this: a re-run
# with nothing to do then writes nothing (no locked rewrite and fsync per integration), and
# confirmed_at stays true to within this much. A changed record is always written at once.
RECONFIRM_AFTER = 3600
ISO_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
# Returned by a mutate function to have JsonFile.update() skip the write.
UNCHANGED = object()
# When set, every lock taken appends a line of timings to this file (see _record_lock_stats).
LOCK_STATS_ENV = 'CREATIO_LOCK_STATS'


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(ISO_FORMAT)


def age_of(stamp):
    """Seconds since an ISO time written by now_iso(); None when there is none or it cannot be read."""
    try:
        return time.time() - calendar.timegm(time.strptime(stamp, ISO_FORMAT))
    except (TypeError, ValueError):
        return None


class JsonFile(object):
    """A JSON document on disk with locked read-modify-write and atomic replacement."""

    def __init__(self, path, option='cache_path'):
        self.path = path
        self.option = option
        self.directory = os.path.dirname(os.path.abspath(path)) or '.'
        self._shared = None

    # --- checks done before any request -----------------------------------------------------
    def check_usable(self, writable):
        """Fail now, before the module sends anything, if the file cannot be read (or written)."""
        if os.path.isdir(self.path):
            raise CacheError('%s %s is a directory, not a file' % (self.option, self.path), path=self.path,
                             hint='point %s at a file name' % self.option)
        if os.path.exists(self.path):
            self.read_shared()  # raises on a corrupt file or an unknown schema; the lookups reuse this parse
        if not writable:
            return
        self.ensure_directory()
        try:
            fd, probe = tempfile.mkstemp(prefix='.probe-', dir=self.directory)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise CacheError('%s: cannot write in %s (%s)' % (self.option, self.directory, exc.strerror), path=self.path,
                             hint='choose a writable folder with %s (or CREATIO_CACHE_PATH)' % self.option)

    def ensure_directory(self):
        if os.path.isdir(self.directory):
            return
        parent = os.path.dirname(self.directory)
        if not os.path.isdir(parent):
            raise CacheError('%s: the folder %s does not exist, nor does its parent %s' % (self.option, self.directory, parent),
                             path=self.path, hint='create the folder, or choose another %s' % self.option)
        try:
            os.mkdir(self.directory, 0o700)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise CacheError('%s: cannot create the folder %s (%s)' % (self.option, self.directory, exc.strerror),
                                 path=self.path, hint='choose a writable folder with %s' % self.option)

    # --- reading ------------------------------------------------------------------------------
    def read(self):
        try:
            with open(self.path, 'rb') as handle:
                raw = handle.read()
        except IOError as exc:
            if exc.errno == errno.ENOENT:
                return self.empty()
            raise CacheError('%s %s cannot be read (%s)' % (self.option, self.path, exc.strerror), path=self.path,
                             hint='fix its permissions (it must belong to the user running Ansible, mode 0600)')
        try:
            document = json.loads(raw.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CacheError(
                '%s %s is not valid JSON (%s)' % (self.option, self.path, exc), path=self.path,
                hint='it is never replaced silently: move it away (keep it: it holds redirect URI ids), then re-run; '
                     'the collection rebuilds what Creatio lets it read back')
        return self.validate(document)

    def read_shared(self):
        """The parsed document for readers that copy what they take from it, parsed again only when
        the file was replaced (every write is an atomic rename: a new inode). A batch looks up many
        integrations in one process; this keeps that to one parse of a large cache."""
        try:
            info = os.stat(self.path)
        except OSError:
            return self.read()
        key = (info.st_ino, info.st_size, info.st_mtime_ns)
        if self._shared is None or self._shared[0] != key:
            self._shared = (key, self.read())
        return self._shared[1]

    def empty(self):
        return {'schema_version': SCHEMA_VERSION}

    def validate(self, document):
        if not isinstance(document, dict) or document.get('schema_version') != SCHEMA_VERSION:
            version = document.get('schema_version') if isinstance(document, dict) else None
            raise CacheError(
                '%s %s has schema version %r; this collection reads version %d' % (self.option, self.path, version, SCHEMA_VERSION),
                path=self.path, hint='use the collection version that wrote it, or move the file away and re-run')
        return document

    # --- writing ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self):
        """Exclusive lock for a read-modify-write."""
        self.ensure_directory()
        with exclusive_flock(self.path + '.lock', self.option, self.path):
            yield

    def update(self, mutate):
        """Apply ``mutate(document)`` under the lock and write the result atomically. Returns the
        value ``mutate`` returned; when that is UNCHANGED, nothing is written."""
        with self.locked():
            document = self.read()
            outcome = mutate(document)
            if outcome is not UNCHANGED:
                self._write(document)
            return outcome

    def _write(self, document):
        # No indent: json's C encoder is used only without one (5x faster at 5,000 clients).
        # Read it with `python -m json.tool` or `jq`.
        data = json.dumps(document, sort_keys=True).encode('utf-8')
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(self.path), dir=self.directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


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
        with exclusive_flock(os.path.join(lock_dir, digest + '.lock'), 'cache_path', self.path):
            yield


def sites_folder(path):
    """The folder of the per-site files of the facts cache ``path``: ``facts.json`` -> ``facts.sites``."""
    return os.path.splitext(os.path.abspath(path))[0] + '.sites'


def site_file_name(site):
    """A site's file: its host and path, readable, and a hash of the whole site URL (unique)."""
    readable = re.sub(r'[^A-Za-z0-9.-]+', '_', re.sub(r'^[A-Za-z]+://', '', site)).strip('_')[:60]
    return '%s-%s.json' % (readable or 'site', hashlib.sha256(site.encode('utf-8')).hexdigest()[:12])


def keep_aside(path, target, option):
    """Rename ``path`` to ``target``, or ``target.<UTC time>[.<n>]`` when that exists: a hard link
    then an unlink, so that no file is ever overwritten. Returns the new name."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    candidates = [target] + ['%s.%s' % (target, stamp)] + ['%s.%s.%d' % (target, stamp, n) for n in range(1, 100)]
    for candidate in candidates:
        try:
            os.link(path, candidate)
        except OSError as exc:
            if exc.errno == errno.EEXIST or os.path.lexists(candidate):
                continue
            if exc.errno not in (errno.EPERM, errno.EXDEV, getattr(errno, 'ENOTSUP', errno.EPERM), errno.EOPNOTSUPP):
                raise CacheError('%s: cannot rename %s to %s (%s)' % (option, path, candidate, exc.strerror), path=path)
            os.rename(path, candidate)  # no hard links here: checked free just above
            return candidate
        os.unlink(path)
        return candidate
    raise CacheError('%s: cannot find a free name to rename %s to' % (option, path), path=path)


@contextlib.contextmanager
def exclusive_flock(lock_path, option, cache_path):
    """flock on ``lock_path``: the kernel releases it when the holder dies, so a killed run never
    leaves a stale lock behind."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise CacheError('%s: cannot open the lock file %s (%s)' % (option, lock_path, exc.strerror), path=cache_path)
    stats = os.environ.get(LOCK_STATS_ENV)
    waited, held_from = 0.0, None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError) as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            started = time.time()
            fcntl.flock(fd, fcntl.LOCK_EX)
            waited = time.time() - started
        held_from = time.time()
        yield
    finally:
        os.close(fd)
        if stats and held_from is not None:
            _record_lock_stats(stats, lock_path, waited, time.time() - held_from)


def _record_lock_stats(stats_path, lock_path, waited, held):
    """One JSON line per lock taken, appended to the file named by CREATIO_LOCK_STATS (a measurement
    aid for the bench and for users who suspect lock contention): the lock file's name, the seconds
    waited for it and held. Never anything else; a failure to write it is ignored."""
    line = json.dumps({'lock': os.path.basename(lock_path), 'wait': round(waited, 6), 'held': round(held, 6),
                       'pid': os.getpid()}) + '\n'
    try:
        fd = os.open(stats_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode('utf-8'))
        finally:
            os.close(fd)
    except OSError:
        pass


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
