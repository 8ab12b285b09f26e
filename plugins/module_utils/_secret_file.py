# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The client secret file: the one place a secret is
written to disk, 0600, whole or not at all, never overwritten."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import hashlib
import json
import os
import re
import stat as statmod
import tempfile

from ansible_collections.creatio.oauth.plugins.module_utils._json_file import NOFOLLOW, keep_aside, open_to_others
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError, ConfigurationError, CreatioError
from ansible_collections.creatio.oauth.plugins.module_utils._records import same_client


def check_secret_file(path):
    if path and os.path.lexists(path):
        raise ConfigurationError('client_secret_file %s already exists; it is never overwritten' % path,
                                 option='client_secret_file', hint='move it away or name another file')
    if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise ConfigurationError('client_secret_file: the folder of %s does not exist' % path, option='client_secret_file')


def open_folder_warning(path):
    """A warning when the folder of a secret file lets other users in (the file itself is 0600,
    but its name, and any copy made beside it, would show)."""
    folder = os.path.dirname(os.path.abspath(path))
    mode = open_to_others(folder)
    if mode is not None:
        return ('client_secret_file %s is in a folder that other users can open (mode %04o): make it readable by its '
                'owner only (chmod 700 %s)' % (path, mode, folder))
    return None


# Most file systems (ext4, xfs, btrfs, tmpfs, NTFS) allow 255 bytes per file name.
DEFAULT_NAME_MAX = 255


def check_can_keep(path, check_mode=False):
    """Before an integration is created (its secret is shown once): raises ConfigurationError when
    the secret could not be written to ``path``: a file name (or that of the partial file written
    beside it) too long for its file system, a folder that is not there and cannot be made, that this
    user cannot write in, or that another user owns (that user could read or swap the file). A real
    run also creates (and removes) an empty file of the partial file's length there; check mode
    writes nothing."""
    folder = os.path.dirname(os.path.abspath(path))
    existing = folder  # a secrets folder the run makes itself: its nearest existing parent must take it
    while not os.path.isdir(existing) and os.path.dirname(existing) != existing:
        if os.path.lexists(existing):
            raise ConfigurationError('client_secret_file %s: %s is not a folder' % (path, existing), option='client_secret_file',
                                     hint='choose a secret file in a folder')
        existing = os.path.dirname(existing)
    name_max = _name_max(existing)
    longest = _byte_length(_partial_prefix(path) + 'x' * 8 + PARTIAL_SUFFIX)
    if longest > name_max:
        raise ConfigurationError('client_secret_file %s: its file name is too long for the file system (%d bytes with the '
                                 'partial file written beside it; the limit is %d)' % (path, longest, name_max),
                                 option='client_secret_file',
                                 hint='choose a file name of at most %d bytes' % (name_max - longest + _byte_length(os.path.basename(path))))
    owner = os.stat(existing).st_uid
    if owner not in (os.getuid(), 0):
        raise ConfigurationError('client_secret_file %s: the folder %s belongs to another user (uid %d), who could read or '
                                 'replace the secret file' % (path, existing, owner), option='client_secret_file',
                                 hint='choose a folder of the user running Ansible (mode 0700)')
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigurationError('client_secret_file %s: this user cannot write in %s' % (path, existing),
                                 option='client_secret_file', hint='make the folder writable, or choose another')
    if check_mode or existing != folder:
        return
    try:
        fd, probe = tempfile.mkstemp(prefix=_partial_prefix(path), suffix='.probing', dir=folder)  # as long as a partial file
    except OSError as exc:
        raise ConfigurationError('client_secret_file %s cannot be created (%s)' % (path, exc.strerror), option='client_secret_file',
                                 hint='nothing was created in Creatio: fix the folder (or choose another file), then re-run')
    os.close(fd)
    _remove_quietly(probe)


def _name_max(folder):
    try:
        return os.pathconf(folder, 'PC_NAME_MAX')
    except (AttributeError, OSError, ValueError):
        return DEFAULT_NAME_MAX


def _byte_length(file_name):
    return len(file_name.encode('utf-8', 'replace')) if not isinstance(file_name, bytes) else len(file_name)


SECRET_KEPT = ('the integration was created: its client secret is in the client_secret return value of this run (and '
               'nowhere else); keep it from there, or delete and re-create the integration for a new one')


def write_secret_file(path, document):
    """Mode 0600, whole or not at all, never overwriting: the document is written and fsynced to a
    partial file beside ``path`` (0600 from its creation, locked until published), then hard-linked to
    ``path``, which fails rather than replace a file that appeared meanwhile. A run killed on the way
    leaves no file, or a partial one that the next run settles (settle_partial_files). Any failure is
    a CreatioError whose hint says where the secret still is."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, partial = tempfile.mkstemp(prefix=_partial_prefix(path), suffix=PARTIAL_SUFFIX, dir=folder)
    except OSError as exc:
        raise CreatioError('client_secret_file %s could not be created (%s)' % (path, exc.strerror), hint=SECRET_KEPT)
    try:
        with os.fdopen(fd, 'w') as handle:
            # Held until the partial is published and gone: settle_partial_files leaves a locked one to its writer.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write('\n')
            handle.flush()
            os.fsync(handle.fileno())
            _publish(partial, path)
            _remove_quietly(partial)
    except (IOError, OSError) as exc:
        raise CreatioError('client_secret_file %s could not be written (%s)' % (path, exc.strerror), hint=SECRET_KEPT)
    finally:
        _remove_quietly(partial)


def _appeared(path):
    return ConfigurationError('client_secret_file %s appeared while the integration was being created; it was not '
                              'overwritten' % path, option='client_secret_file', hint=SECRET_KEPT)


def _publish(partial, path):
    try:
        os.link(partial, path)
        return
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise _appeared(path)
        if exc.errno not in _NO_HARD_LINKS:
            raise
    # A file system without hard links: an exclusive create, then a copy of the whole document; a
    # copy that fails is removed (only a kill during the copy itself can leave it torn, see secrets.rst).
    with open(partial) as source:
        text = source.read()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise _appeared(path)
        raise
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except (IOError, OSError):
        _remove_quietly(path)
        raise


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


# --- a partial file left by a run killed while writing a secret file ------------------------------

PARTIAL_SUFFIX = '.partial'
# EXDEV: a kept copy (beside the facts cache) published to a secret file on another file system.
_NO_HARD_LINKS = tuple(code for code in (getattr(errno, n, None) for n in ('EPERM', 'EOPNOTSUPP', 'ENOTSUP', 'ENOSYS', 'EXDEV'))
                       if code is not None)
# Bigger files are not one this collection wrote.
SECRET_FILE_MAX_BYTES = 65536


def _partial_prefix(path):
    return '.%s.' % os.path.basename(path)


def partial_files(path):
    """The partial files write_secret_file left beside ``path`` (a run killed before publishing):
    exactly ``.<file name>.<8 characters of mkstemp>.partial``, so that the partial of another file
    whose name starts with this one's (``App.json.json`` beside ``App.json``) is never taken for one."""
    folder = os.path.dirname(os.path.abspath(path))
    shape = re.compile(r'\A%s[a-z0-9_]{8}%s\Z' % (re.escape(_partial_prefix(path)), re.escape(PARTIAL_SUFFIX)))
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(os.path.join(folder, n) for n in names if shape.match(n))


def json_object_in(path):
    """The JSON object in a small regular file; None for anything else (a link, a torn file, a foreign shape)."""
    if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > SECRET_FILE_MAX_BYTES:
        return None
    try:
        with open(path) as handle:
            document = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def settle_partial_files(run, path, name, client_id, known=True):
    """Settles the partial files a run killed while writing ``path`` left beside it (one still locked
    belongs to a run writing it now and is left alone). ``client_id``: the client Creatio has for the
    integration now (from Creatio or the facts cache), None when there is none.

    - whole, this user's and private, holding the secret of ``client_id``, ``path`` missing: it
      completes ``path`` (the secret was issued once and is nowhere else);
    - the same, but ``path`` holds something else: left in place, with a warning (never a secret lost);
    - ``path`` itself (a run killed after publishing, before removing it): removed, silently;
    - torn, or of another client: removed (no secret anyone can use);
    - another user's, or readable by others: left alone, with a warning (not trusted as a secret file).

    ``known``: False when Creatio's integrations could not be read and the facts cache does not know this one:
    which clients exist cannot be told then, so a whole partial of any client is left alone (warned), never
    removed on a guess. Check mode only warns. Returns True when a file was (or, in check mode, would be)
    completed or removed."""
    done = False
    for partial in partial_files(path):
        done = _settle(run, partial, path, name, client_id, KILLED_WRITER, known) or done
    return done


# How a partial (or kept) file came to be: (what it is, how the secret file was completed from it).
KILLED_WRITER = ('a partial secret file left by a run that was killed while writing %s',
                 'left by a run that was killed while writing it')
FAILED_WRITER = ('the copy of a client secret kept by a run that could not write %s',
                 'kept by the run that created the integration and could not write its secret file')


def _settle(run, partial, path, name, client_id, origin, known=True):
    try:
        fd = os.open(partial, os.O_RDONLY | NOFOLLOW)
    except OSError:
        return False  # gone meanwhile (published by its writer), a link, or not this user's to read
    with os.fdopen(fd, 'rb') as handle:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            return False  # its writer is still at work
        verdict = _verdict_on(handle, path, name, client_id, known)
        return _act_on(run, verdict, partial, path, client_id, origin)


def _verdict_on(handle, path, name, client_id, known=True):
    stat = os.fstat(handle.fileno())
    if _same_inode(stat, path):
        return 'published'
    if not statmod.S_ISREG(stat.st_mode) or stat.st_uid != os.getuid() or stat.st_mode & 0o077:
        return 'foreign'
    text = handle.read(SECRET_FILE_MAX_BYTES + 1)
    try:
        document = json.loads(text.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        return 'remove'
    whole = isinstance(document, dict) and document.get('name') == name and isinstance(document.get('client_secret'), str)
    if whole and not known:
        return 'undecided'
    if not whole or not same_client(document.get('client_id'), client_id):
        return 'remove'
    if os.path.lexists(path):
        return 'published' if _same_bytes(path, text) else 'keep'
    return 'complete'


def _same_inode(stat, path):
    try:
        other = os.stat(path)
    except OSError:
        return False
    return (other.st_dev, other.st_ino) == (stat.st_dev, stat.st_ino)


def _same_bytes(path, text):
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | NOFOLLOW), 'rb') as handle:
            return handle.read(SECRET_FILE_MAX_BYTES + 1) == text
    except (IOError, OSError):
        return False


def _act_on(run, verdict, partial, path, client_id, origin=KILLED_WRITER):
    left = '%s, %s' % (partial, origin[0] % path)
    if verdict == 'foreign':
        run.warn('%s, was left alone: it is not a private file of this user (owner or mode), so it is not trusted '
                 'as a secret file; check it and remove it' % left)
        return False
    if verdict == 'undecided':
        run.warn('%s, was left alone: Creatio did not let this user read its integrations and the facts cache does not '
                 'know this one, so whether its client still exists cannot be told; a run that can read them settles it'
                 % left)
        return False
    if verdict == 'keep':
        run.warn('%s, holds the secret of client id %s, but %s holds something else: both were left as they are; move '
                 '%s away and the next run completes it from the partial file' % (left, client_id, path, path))
        return False
    if run.check_mode:
        if verdict != 'published':
            would = 'completes %s from it' % path if verdict == 'complete' else 'removes it (it holds no usable secret)'
            run.warn('%s: a real run %s' % (left, would))
        return verdict != 'published'
    if verdict == 'published':
        _remove_quietly(partial)  # a second name of the secret file itself
        return False
    if verdict == 'remove':
        _remove_quietly(partial)
        run.warn('%s, was removed: it held no usable secret (torn, or of a client Creatio does not have)' % left)
        return True
    try:
        _publish(partial, path)
    except (ConfigurationError, IOError, OSError) as exc:
        run.warn('%s: %s could not be completed from it (%s); it stays, with the secret, for the next run'
                 % (left, path, getattr(exc, 'strerror', None) or 'the file appeared meanwhile'))
        return False
    _remove_quietly(partial)
    run.warn('client_secret_file %s was completed from %s, %s (the secret of client id %s)' % (path, partial, origin[1], client_id))
    return True


# --- a secret file left by an integration that was deleted since (issue 15 item 6) -------------------

def stale_client_id(path, name, current_client_id):
    """The client id in ``path`` when it is a secret file this collection wrote for an earlier
    integration named ``name`` (JSON with that ``name`` and a ``client_id`` other than the
    integration's current one); None for anything else (another file, a link, a foreign shape)."""
    document = json_object_in(path)
    if document is None or document.get('name') != name:
        return None
    old = document.get('client_id')
    if not isinstance(old, str) or not old.strip():
        return None
    if same_client(old, current_client_id):
        return None
    return old


def make_way_for_secret_file(run, path, name, current_client_id, keep_stale):
    """Before an integration is created with ``path`` as its secret file: refuse an existing file
    (check_secret_file), except, with ``keep_stale`` (a file of the role's secrets folder), the file of
    an earlier integration of that name that Creatio no longer has. That one is kept under another
    name (``<file>.<old client id>``, never overwriting anything) so that the new secret can be
    written; in check mode only reported. Returns {'path', 'kept_as', 'client_id'} or None."""
    old = stale_client_id(path, name, current_client_id) if keep_stale and os.path.lexists(path) else None
    if old is None:
        check_secret_file(path)
        return None
    target = '%s.%s' % (path, re.sub(r'[^A-Za-z0-9_-]+', '_', old))
    if run.check_mode:
        kept_as = target
        run.warn('client_secret_file %s holds the secret of an earlier integration %r (client id %s) that Creatio no longer '
                 'has: a real run keeps it as %s and writes the secret of the new integration in its place'
                 % (path, name, old, target))
    else:
        try:
            kept_as = keep_aside(path, target, 'client_secret_file')
        except CacheError as exc:
            raise ConfigurationError(exc.message, option='client_secret_file', hint='move the old file away by hand')
        run.warn('client_secret_file %s held the secret of an earlier integration %r (client id %s) that Creatio no longer '
                 'has: it was kept as %s, and the secret of the new integration goes to %s' % (path, name, old, kept_as, path))
    return {'path': path, 'kept_as': kept_as, 'client_id': old}


# --- a secret that its file could not take after AddClient: kept beside the facts cache (issue 20) ----

KEPT_FOLDER = 'kept-secrets'


def kept_folder(cache_path):
    """The folder (0700) of the kept copies: beside the facts cache, which every run can write."""
    return os.path.join(os.path.dirname(os.path.abspath(cache_path)), KEPT_FOLDER)


def _kept_prefix(site, name):
    return hashlib.sha256(('%s\n%s' % (site, name)).encode('utf-8')).hexdigest()[:32] + '.'


def kept_secret_files(folder, site, name):
    """The kept copies of integration ``name`` of ``site``: ``<hash of site and name>.<client id>.json``."""
    prefix = _kept_prefix(site, name)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(os.path.join(folder, n) for n in names if n.startswith(prefix) and n.endswith('.json'))


def keep_after_failure(run, folder, path, document, failure):
    """The error of a run that created integration ``document['name']`` and could not write its
    secret to ``path`` (``failure``): the secret is first kept, whole or not at all, in a 0600 file of
    ``folder`` (see kept_folder), which the next run publishes to ``path`` (settle_kept_secrets). The
    error says where it is; when it could not be kept either, it says where the secret still is: the
    client_secret return value, unless the task hides it (no_log)."""
    name, client_id = document['name'], document['client_id']
    kept = os.path.join(folder, '%s%s.json' % (_kept_prefix(run.site, name), re.sub(r'[^A-Za-z0-9_-]+', '_', client_id)[:64]))
    created = ('integration %r was created (client id %s), but its client secret could not be written to %s: %s'
               % (name, client_id, path, failure.message))
    try:
        try:
            os.mkdir(folder, 0o700)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise CreatioError('%s cannot be created (%s)' % (folder, exc.strerror))
        write_secret_file(kept, document)
    except CreatioError as exc:
        if getattr(run.module, 'no_log', False):
            hint = ('this task hides its result (no_log), so the secret is lost: delete the integration (state: absent) and '
                    're-run to create it with a new secret, after fixing the folder of %s' % path)
        else:
            hint = SECRET_KEPT
        return CreatioError('%s; it could not be kept in %s either (%s)' % (created, folder, exc.message), call='AddClient', hint=hint)
    return CreatioError('%s. The secret is kept in %s (mode 0600, readable by this user only): the next run writes %s from '
                        'it and removes it, without creating the integration again' % (created, kept, path),
                        call='AddClient', hint='fix what kept the file from being written, then re-run')


def settle_kept_secrets(run, folder, path, name, client_id, known=True):
    """Publishes to ``path`` the copy keep_after_failure kept of the secret of client ``client_id``
    (the client Creatio has for the integration now; None when there is none), and removes the copy;
    a copy of another client's secret is removed (worth nothing); see _act_on. Without ``path``
    (no secret file declared now) a copy is only reported. Returns True when one was (or, in check
    mode, would be) published or removed."""
    done = False
    for kept in kept_secret_files(folder, run.site, name):
        if not path:
            run.warn('%s holds the client secret of integration %r, kept by a run that could not write its secret file: '
                     'declare client_secret_file (or a secrets folder) and the next run writes it there' % (kept, name))
            continue
        done = _settle(run, kept, path, name, client_id, FAILED_WRITER, known) or done
    return done
