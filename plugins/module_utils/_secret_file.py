# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The client secret file: the one place a secret is
written to disk, 0600, created exclusively, never overwritten."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os
import re

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
    """Mode 0600, created exclusively: a file that appeared meanwhile is not overwritten either.
    Any failure is a CreatioError whose hint says where the secret still is."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise ConfigurationError('client_secret_file %s appeared while the integration was being created; it was '
                                     'not overwritten' % path, option='client_secret_file', hint=SECRET_KEPT)
        raise CreatioError('client_secret_file %s could not be created (%s)' % (path, exc.strerror), hint=SECRET_KEPT)
    try:
        with os.fdopen(fd, 'w') as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write('\n')
    except (IOError, OSError) as exc:
        raise CreatioError('client_secret_file %s could not be written (%s)' % (path, exc.strerror), hint=SECRET_KEPT)


# --- a secret file left by an integration that was deleted since (issue 15 item 6) -------------------

STALE_FILE_MAX_BYTES = 65536


def stale_client_id(path, name, current_client_id):
    """The client id in ``path`` when it is a secret file this collection wrote for an earlier
    integration named ``name`` (JSON with that ``name`` and a ``client_id`` other than the
    integration's current one); None for anything else (another file, a link, a foreign shape)."""
    if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > STALE_FILE_MAX_BYTES:
        return None
    try:
        with open(path) as handle:
            document = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get('name') != name:
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
