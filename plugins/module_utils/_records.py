# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API): what the collection knows about one integration.

A ``Record`` is the one shape shared by the facts cache, the OData read-back, the planner and the
module results: facts about the integration, its values normalised where they entered (the
declaration, Creatio's answers and rows, the facts cache). ``view()`` and ``diff_view()`` only format
them for the returned ``client`` and the diff. What one OData read showed of a client's redirect URIs
is no fact of it: the ``Evidence`` of a ``SiteRow``, which the lookup carries.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils._normalize import stored_url

# The client id a check-mode run shows for an integration it would create.
NEW_CLIENT = '(client id of the new integration)'


class RedirectUri(object):
    """One authorized redirect URI; ``id`` is None when Creatio never told it."""

    __slots__ = ('id', 'url')

    def __init__(self, url, id=None):  # pylint: disable=redefined-builtin
        self.url = url
        self.id = id

    def as_dict(self):
        return {'id': self.id, 'url': self.url}

    def __eq__(self, other):
        return isinstance(other, RedirectUri) and (self.id, self.url) == (other.id, other.url)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return 'RedirectUri(%r, id=%r)' % (self.url, self.id)


class Record(object):
    """An integration as far as the collection knows it: facts only (what one run saw of the site is
    the Evidence of a SiteRow, carried by the lookup).

    ``redirect_urls`` is a list of RedirectUri (their URLs normalised where they entered: the
    declaration, Creatio's answers and rows), or None when nothing is known about them (an
    integration found in Creatio, which has no API that lists them). ``pending`` marks an AddClient
    whose answer was lost. ``confirmed_at`` is when the facts cache last confirmed the record against
    Creatio (set by the cache itself). ``app_id`` and ``created_on`` are the OData row's Id and
    CreatedOn (not cached: known where the integration was read from OData).
    """

    FIELDS = ('name', 'client_id', 'grant_type', 'application_url', 'system_user_id', 'active')

    def __init__(self, name, client_id=None, grant_type=None, application_url=None, system_user_id=None,
                 active=None, redirect_urls=None, pending=False, confirmed_at=None, app_id=None, created_on=None):
        self.name = name
        self.client_id = client_id
        self.grant_type = grant_type
        self.application_url = application_url
        self.system_user_id = system_user_id
        self.active = active
        self.redirect_urls = redirect_urls
        self.pending = pending
        self.confirmed_at = confirmed_at
        self.app_id = app_id  # OAuthClientApp.Id (not the client id); from OData, not cached
        self.created_on = created_on

    # --- the facts cache ---------------------------------------------------------------------
    @classmethod
    def from_cache(cls, name, entry):
        """The record of a facts cache entry; its redirect URIs normalised here, where they enter."""
        if entry is None:
            return None
        rows = entry.get('redirect_urls')
        return cls(
            name=entry.get('name') or name, client_id=entry.get('client_id'), grant_type=entry.get('grant_type'),
            application_url=entry.get('application_url'), system_user_id=entry.get('system_user_id'),
            active=entry.get('active'), pending=bool(entry.get('pending')), confirmed_at=entry.get('confirmed_at'),
            redirect_urls=None if rows is None else [RedirectUri(stored_url(r.get('url')), r.get('id')) for r in rows])

    def cache_entry(self):
        """The cache's JSON for this record (never a secret: a record holds none)."""
        entry = dict((key, getattr(self, key)) for key in self.FIELDS)
        entry['redirect_urls'] = self.url_dicts()
        if self.pending:
            entry['pending'] = True
        return entry

    # --- helpers -----------------------------------------------------------------------------
    def copy(self, **changes):
        record = Record(self.name, self.client_id, self.grant_type, self.application_url, self.system_user_id,
                        self.active, None if self.redirect_urls is None else [RedirectUri(r.url, r.id) for r in self.redirect_urls],
                        self.pending, self.confirmed_at, self.app_id, self.created_on)
        for key, value in changes.items():
            setattr(record, key, value)
        return record

    def url_dicts(self):
        return None if self.redirect_urls is None else [r.as_dict() for r in self.redirect_urls]

    def has_client_id(self, client_id):
        return same_client(self.client_id, client_id)

    def known_urls(self):
        return [r.url for r in self.redirect_urls or []]

    @property
    def exists(self):
        """Creatio has told this record's client id (a pending or planned one has none)."""
        return bool(self.client_id) and self.client_id != NEW_CLIENT

    # --- results and diffs (formatting only) ---------------------------------------------------
    def view(self):
        """The managed fields, as modules return them."""
        view = dict((key, getattr(self, key)) for key in self.FIELDS)
        view['redirect_urls'] = url_rows(self.url_dicts())
        return view

    def diff_view(self):
        """The diff's side: redirect URIs as a sorted list of URLs (ids are bookkeeping)."""
        view = self.view()
        view['redirect_urls'] = sorted(r['url'] for r in view['redirect_urls'])
        return view

    def __repr__(self):
        return 'Record(%r, client_id=%r)' % (self.name, self.client_id)


class Evidence(object):
    """What the site showed of one integration's redirect URIs when it was read from OData in this run:
    evidence for this run only, never cached and no fact of the integration. ``column``: OData's
    RedirectUrl (normalised; before 8.3 the whole list), ``listed``: the rows of the redirect-URI entity
    read with the batch's read ahead (None when not read then)."""

    __slots__ = ('column', 'listed')

    def __init__(self, column=None, listed=None):
        self.column = column
        self.listed = listed

    def copy(self):
        return Evidence(self.column, None if self.listed is None else list(self.listed))


class SiteRow(Record):
    """A Record as one OData row showed it, with the Evidence of that read (``evidence``). Copies keep it;
    a Record made from it (``_lookup.merge``) does not: the lookup carries the evidence."""

    def __init__(self, name, evidence=None, **facts):
        super(SiteRow, self).__init__(name, **facts)
        self.evidence = evidence if evidence is not None else Evidence()

    def copy(self, **changes):
        record = Record.copy(self)
        row = SiteRow(record.name, evidence=self.evidence.copy(), **dict((k, getattr(record, k)) for k in _ROW_FACTS))
        for key, value in changes.items():
            setattr(row, key, value)
        return row


_ROW_FACTS = ('client_id', 'grant_type', 'application_url', 'system_user_id', 'active', 'redirect_urls', 'pending',
              'confirmed_at', 'app_id', 'created_on')


def client_key(client_id):
    """A client id as compared: Creatio issues upper-case hex (contract section 3), users may type
    either case, and the comparison must not care."""
    return client_id.upper() if isinstance(client_id, str) else client_id


def same_client(first, second):
    return bool(first) and bool(second) and client_key(first) == client_key(second)


def view_of(record):
    return record.view() if record is not None else {}


def diff_view_of(record):
    return record.diff_view() if record is not None else {}


def url_rows(rows):
    """Redirect URI rows as [{'id', 'url'}], sorted by URL (normalised where they entered: formatted only)."""
    result = [{'id': row.get('id'), 'url': row.get('url')} for row in rows or []]
    return sorted(result, key=lambda r: (r['url'] or '', r['id'] or ''))
