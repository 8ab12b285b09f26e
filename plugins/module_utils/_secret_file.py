# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The client secret file: the one place a secret is
written to disk, 0600, whole or not at all, never overwritten."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os
import re
import tempfile

from ansible_collections.creatio.oauth.plugins.module_utils._json_file import keep_aside
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CacheError, ConfigurationError, CreatioError


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
    mode = os.stat(folder).st_mode & 0o777
    if mode & 0o077:
        return ('client_secret_file %s is in a folder that other users can open (mode %04o): make it readable by its '
                'owner only (chmod 700 %s)' % (path, mode, folder))
    return None


SECRET_KEPT = ('the integration was created: its client secret is in the client_secret return value of this run (and '
               'nowhere else); keep it from there, or delete and re-create the integration for a new one')


def write_secret_file(path, document):
    """Mode 0600, whole or not at all, never overwriting: the document is written and fsynced to a
    partial file beside ``path`` (0600 from its creation), then hard-linked to ``path``, which fails
    rather than replace a file that appeared meanwhile. A run killed on the way leaves no file, or a
    partial one that the next run settles (settle_partial_files). Any failure is a CreatioError whose
    hint says where the secret still is."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, partial = tempfile.mkstemp(prefix=_partial_prefix(path), suffix=PARTIAL_SUFFIX, dir=folder)
    except OSError as exc:
        raise CreatioError('client_secret_file %s could not be created (%s)' % (path, exc.strerror), hint=SECRET_KEPT)
    try:
        with os.fdopen(fd, 'w') as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write('\n')
            handle.flush()
            os.fsync(handle.fileno())
        _publish(partial, path)
    except (IOError, OSError) as exc:
        raise CreatioError('client_secret_file %s could not be written (%s)' % (path, exc.strerror), hint=SECRET_KEPT)
    finally:
        _remove_quietly(partial)


def _publish(partial, path):
    try:
        os.link(partial, path)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise ConfigurationError('client_secret_file %s appeared while the integration was being created; it was '
                                     'not overwritten' % path, option='client_secret_file', hint=SECRET_KEPT)
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # A file system without hard links: an exclusive create, then a copy of the whole document.
        with open(partial) as source:
            text = source.read()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise ConfigurationError('client_secret_file %s appeared while the integration was being created; it was '
                                         'not overwritten' % path, option='client_secret_file', hint=SECRET_KEPT)
            raise
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


# --- a partial file left by a run killed while writing a secret file ------------------------------

PARTIAL_SUFFIX = '.partial'
_NO_HARD_LINKS = tuple(code for code in (getattr(errno, n, None) for n in ('EPERM', 'EOPNOTSUPP', 'ENOTSUP', 'ENOSYS'))
                       if code is not None)


def _partial_prefix(path):
    return '.%s.' % os.path.basename(path)


def partial_files(path):
    """The partial files write_secret_file left beside ``path`` (a run killed before publishing)."""
    folder = os.path.dirname(os.path.abspath(path))
    prefix = _partial_prefix(path)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(os.path.join(folder, n) for n in names if n.startswith(prefix) and n.endswith(PARTIAL_SUFFIX)
                  and len(n) > len(prefix) + len(PARTIAL_SUFFIX) and '/' not in n)


# Bigger files are not one this collection wrote.
SECRET_FILE_MAX_BYTES = 65536


def _json_object_in(path):
    """The JSON object in a small regular file; None for anything else (a link, a torn file, a foreign shape)."""
    if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > SECRET_FILE_MAX_BYTES:
        return None
    try:
        with open(path) as handle:
            document = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def settle_partial_files(run, path, name, client_id):
    """A run killed between writing the secret and publishing it left a partial file beside
    ``path``. One that is whole and holds the secret of the integration Creatio has now (``client_id``,
    from Creatio or the facts cache; None when there is none) completes ``path`` when that is still
    missing: the secret was issued once and is nowhere else. Any other (torn, another client's, or
    ``path`` exists) is removed: it holds no secret anyone can use. In check mode both are only
    reported. Returns True when something was (or, in check mode, would be) done."""
    done = False
    for partial in partial_files(path):
        document = _json_object_in(partial)
        completes = (document is not None and client_id and document.get('name') == name
                     and str(document.get('client_id') or '').upper() == str(client_id).upper()
                     and isinstance(document.get('client_secret'), str) and not os.path.lexists(path))
        if run.check_mode:
            run.warn('%s is a partial secret file left by a run that was killed while writing %s: a real run %s'
                     % (partial, path, 'completes %s from it' % path if completes else 'removes it (it holds no usable secret)'))
            done = True
            continue
        if completes:
            try:
                _publish(partial, path)
            except (ConfigurationError, IOError, OSError):
                continue  # the file appeared meanwhile, or cannot be made: the partial stays for the next run
            _remove_quietly(partial)
            run.warn('client_secret_file %s was completed from %s, left by a run that was killed while writing it '
                     '(the secret of client id %s)' % (path, partial, client_id))
        else:
            _remove_quietly(partial)
            run.warn('%s, a partial secret file left by a run that was killed while writing %s, was removed: it held '
                     'no usable secret (torn, or of a client Creatio does not have, or %s exists)' % (partial, path, path))
        done = True
    return done


# --- a secret file left by an integration that was deleted since (issue 15 item 6) -------------------

def stale_client_id(path, name, current_client_id):
    """The client id in ``path`` when it is a secret file this collection wrote for an earlier
    integration named ``name`` (JSON with that ``name`` and a ``client_id`` other than the
    integration's current one); None for anything else (another file, a link, a foreign shape)."""
    document = _json_object_in(path)
    if document is None or document.get('name') != name:
        return None
    old = document.get('client_id')
    if not isinstance(old, str) or not old.strip():
        return None
    if current_client_id and old.upper() == str(current_client_id).upper():
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
