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

from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, CreatioError


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
