# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). A JSON document on disk that several runs share:
read-modify-write under an exclusive flock on a sibling lock file, written to a temporary file that
is fsynced and renamed over the old one, so a killed run leaves the old or the new document, never a
torn one. Used by the facts cache (one file per site) and the session store."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import contextlib
import datetime
import errno
import fcntl
import json
import os
import tempfile
import time

from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError

SCHEMA_VERSION = 1
ISO_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
# Returned by a mutate function to have JsonFile.update() skip the write.
UNCHANGED = object()
# When set, every lock taken appends a line of timings to this file (see _record_lock_stats).
LOCK_STATS_ENV = 'CREATIO_LOCK_STATS'
# Files the collection opens by name are never followed through a symbolic link.
NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)


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
            with os.fdopen(os.open(self.path, os.O_RDONLY | NOFOLLOW), 'rb') as handle:
                raw = handle.read()
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return self.empty()
            if exc.errno == errno.ELOOP:
                raise CacheError('%s %s is a symbolic link; the collection reads and writes only its own files' % (self.option, self.path),
                                 path=self.path, hint='remove the link (or point %s at the file itself)' % self.option)
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
        replace_file(self.path, json.dumps(document, sort_keys=True).encode('utf-8'), 0o600, durable=True)


def replace_file(path, data, mode, durable=False):
    """Write ``data`` (bytes) to ``path`` through a temporary file of ``mode`` in the same folder,
    renamed over it: a reader or a killed run sees the old file or the new one, never a torn one.
    ``durable``: the data and the rename are synced to disk before it returns."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=folder)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


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
        # O_NOFOLLOW: a link planted at the lock's name would have the run create (or lock) the file it points to.
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | NOFOLLOW, 0o600)
    except OSError as exc:
        what = 'it is a symbolic link' if exc.errno == errno.ELOOP else exc.strerror
        raise CacheError('%s: cannot open the lock file %s (%s)' % (option, lock_path, what), path=cache_path,
                         hint='remove %s (the collection makes its lock files itself)' % lock_path if exc.errno == errno.ELOOP else None)
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
        fd = os.open(stats_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW, 0o600)
        try:
            os.write(fd, line.encode('utf-8'))
        finally:
            os.close(fd)
    except OSError:
        pass


def open_to_others(folder):
    """The mode of ``folder`` when users other than its owner may open it (any group or other bit);
    None when it is private (or gone). Secret files, the session file and kept secrets live in such folders."""
    try:
        mode = os.stat(folder).st_mode & 0o777
    except OSError:
        return None
    return mode if mode & 0o077 else None
