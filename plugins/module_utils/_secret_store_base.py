# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). What every secret store shares: the errors, the
document stored, the placeholders of ``secret_store.path`` and the checks that keep a rendered path
inside its mount or folder, and the base class each store type fills in."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, CreatioError
from ansible_collections.creatio.oauth.plugins.module_utils._json_file import now_iso
from ansible_collections.creatio.oauth.plugins.module_utils._records import same_client

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # noqa: F401

PLACEHOLDERS = ('{site}', '{name}')
# Any {word} is taken for a placeholder, so that a typo ({nme}) is refused rather than stored literally.
_PLACEHOLDER_SHAPE = re.compile(r'\{[^{}]*\}')
_CONTROL = re.compile(u'[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]')
DOCUMENT_KEYS = ('client_id', 'client_secret', 'name', 'creatio_url', 'token_url', 'created')


class SecretStoreError(CreatioError):
    """The secret store refused, failed or holds something else. ``store`` says which store and where
    (type, server or folder, path), never a token or a secret."""

    def __init__(self, message, store=None, call=None, status=None, hint=None):
        super(SecretStoreError, self).__init__(message, call=call, status=status, hint=hint)
        self.store = store

    def details(self):
        details = super(SecretStoreError, self).details()
        details['store'] = self.store
        return details


class SecretStoreConflictError(SecretStoreError):
    """The path holds a document this run did not expect (a check-and-set refused, or another
    client's secret): nothing was written over it."""


def secret_document(name, client_id, client_secret, creatio_url, token_url=None, created=None):
    """The document a store keeps for one integration (``token_url`` only where known)."""
    document = {
        'name': name,
        'client_id': client_id,
        'client_secret': client_secret,
        'creatio_url': creatio_url,
        'created': created or now_iso(),
    }
    if token_url:
        document['token_url'] = token_url
    return document


def holder_of(document, version=None):
    """The identity of a stored document (see SecretStore.current_holder), None for no document with a client id."""
    if not isinstance(document, dict):
        return None
    client_id = document.get('client_id')
    if not isinstance(client_id, str) or not client_id:
        return None
    holder = {'client_id': client_id, 'version': version}
    for key in ('name', 'creatio_url'):
        value = document.get(key)
        holder[key] = value if isinstance(value, str) and value else None
    return holder


def site_of(creatio_url):
    """``{site}``: the host of the site (with its port when one is given) and its path, as in
    ``mycompany.creatio.com`` or ``crm.example.com:8443/CreatioApp``."""
    parts = urlsplit(creatio_url)
    return (parts.netloc.lower() + parts.path.rstrip('/')).strip('/')


def check_template(template, option='secret_store.path'):
    """The placeholders of a path template: only {site} and {name}, and {name} must be there (a path
    without it would give every integration the same place)."""
    if not isinstance(template, str) or not template.strip():
        raise ConfigurationError('%s is empty' % option, option=option, hint='e.g. creatio/{site}/{name}')
    if '{{' in template or '{%' in template:
        raise ConfigurationError('%s must not be a Jinja template (got %r)' % (option, template), option=option,
                                 hint='use the placeholders {site} and {name} (single braces): they are filled in per integration')
    unknown = [p for p in _PLACEHOLDER_SHAPE.findall(template) if p not in PLACEHOLDERS]
    if unknown:
        raise ConfigurationError('%s has unknown placeholders %s' % (option, ', '.join(unknown)), option=option,
                                 hint='only {site} (the site\'s host and path) and {name} (the integration) are filled in')
    if '{name}' not in template:
        raise ConfigurationError('%s must contain {name}' % option, option=option,
                                 hint='each integration needs its own place, e.g. creatio/{site}/{name}')
    if _CONTROL.search(template):
        raise ConfigurationError('%s contains a control character' % option, option=option)


def render(template, site, name):
    """Plain replacement, one pass: a value that holds "{name}" itself is not filled in again."""
    values = {'{site}': site, '{name}': name}
    return _PLACEHOLDER_SHAPE.sub(lambda match: values[match.group(0)], template)


def check_relative_path(path, option='secret_store.path', what='the mount'):
    """A rendered path that stays where it is meant to: relative, no empty, "." or ".." segment, no
    control character. Raises ConfigurationError (before any request)."""
    if _CONTROL.search(path):
        raise ConfigurationError('%s %r contains a control character' % (option, path), option=option,
                                 hint='check the integration name and creatio_url')
    if path.startswith('/') or path.startswith('\\'):
        raise ConfigurationError('%s %r must be relative to %s' % (option, path, what), option=option,
                                 hint='drop the leading "/"')
    segments = path.split('/')
    if any(s in ('', '.', '..') for s in segments):
        raise ConfigurationError('%s %r would leave %s or has an empty segment (".", ".." or "//")' % (option, path, what),
                                 option=option, hint='check the integration name and the path template')
    return path


class SecretStore(object):
    """One store type. ``config``: the parsed ``secret_store`` option (a dict).

    Every method takes the rendered path (``location(site, name)``) and raises ConfigurationError
    for bad input, SecretStoreError (or SecretStoreConflictError) for what the store refused, and
    the transport's TransportError/TLSError for answers that never came. Whatever they raise is
    scrubbed of the store's credentials, the secrets it read, and the secret being delivered.
    A subclass fills in the ``_check_usable``, ``_current_client_id`` and ``_deliver`` steps.
    """

    type_name = None

    def __init__(self, config):
        self.config = config
        self.warnings = []

    def location(self, site, name):
        """The rendered path of integration ``name`` on ``site`` (its ``{site}`` value, see site_of)."""
        raise NotImplementedError

    def describe(self, path):
        """Where ``path`` is, for messages and results (never a token)."""
        raise NotImplementedError

    def check_usable(self, path):
        """Before anything is created in Creatio: the store takes a document at ``path``. Writes nothing."""
        return self._scrubbed(self._check_usable, path)

    def current_client_id(self, path):
        """The client id of the document the store holds at ``path`` now, None when it holds none. Reads only."""
        return self._scrubbed(self._current_client_id, path)

    def current_holder(self, path):
        """Whose document the store holds at ``path`` now: {'client_id', 'name', 'creatio_url', 'version'} (the
        values the document gives, None where it gives none; ``version`` where the store has versions), or None
        when it holds none. Never the secret. Reads only."""
        return self._scrubbed(self._current_holder, path)

    def withdraw(self, path, client_id, version=None):
        """Take back a document this run delivered for ``client_id`` (a client deleted since): removed only
        while ``path`` still holds that client (and, where the store has versions, ``version``, the one this
        run wrote); a document of any other client is never touched. Returns True when it was removed, False
        when the path holds something else (or nothing)."""
        return self._scrubbed(self._withdraw, path, client_id, version)

    def deliver(self, path, document, previous_client_id=None, expected_version=None):
        """Store ``document`` at ``path``: created when nothing is there; replaced (a new version, or
        the old file kept aside) only when it holds ``previous_client_id``; nothing written when it
        holds ``document['client_id']`` already. ``expected_version`` (stores with versions): the version
        read when this run checked the path; written only while it is still the current one, so that a run
        that wrote there meanwhile (another rotation, or one rolling this one back) wins. Returns
        {'changed', 'location', 'version'} (and ``kept_as`` when an old file was kept aside)."""
        return self._scrubbed(self._deliver, path, document, previous_client_id, expected_version,
                              extra=[document.get('client_secret')])

    def fence(self, path, client_id):
        """Before a run rolls back another run's unfinished rotation: the document at ``path``, which holds
        ``client_id`` (the predecessor), written again as it is (stores with versions: a new version, with
        check-and-set), so that a delivery still under way for the successor (it expects the version read
        before) is refused. True when done (or where the store has no versions), False when the path no longer
        holds ``client_id`` at the version read."""
        return self._scrubbed(self._fence, path, client_id)

    def _fence(self, path, client_id):
        return same_client(self._current_client_id(path), client_id)

    def secrets(self):
        """The store's own credentials and the secrets it read, to scrub from every error."""
        return []

    def close(self):
        pass

    def _scrubbed(self, step, *args, **kwargs):
        extra = kwargs.pop('extra', [])
        try:
            return step(*args)
        except CreatioError as exc:
            exc.redact([s for s in list(self.secrets()) + list(extra) if s and len(str(s)) >= 4])
            raise

    def _check_usable(self, path):
        raise NotImplementedError

    def _current_client_id(self, path):
        raise NotImplementedError

    def _deliver(self, path, document, previous_client_id, expected_version=None):
        raise NotImplementedError

    def _current_holder(self, path):
        raise NotImplementedError

    def _withdraw(self, path, client_id, version):
        raise NotImplementedError

    def _error(self, cls, message, path, **kwargs):
        return cls(message, store=self.describe(path), **kwargs)

    def _unexpected_holder(self, path, held, document, previous_client_id):
        if previous_client_id is None:
            found = 'holds the secret of client id %s already' % held
            hint = 'it is never replaced for a new integration: move it away, or point secret_store.path elsewhere'
        else:
            found = 'holds client id %s, not the replaced client id %s' % (held, previous_client_id)
            hint = 'someone else wrote there: check it, move it away, then re-run'
        return self._error(SecretStoreConflictError, '%s %s; the secret of client id %s was not written there'
                           % (self.describe(path), found, document['client_id']), path, hint=hint)
