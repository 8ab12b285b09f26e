# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The OData reads of CreatioClient: integrations,
any entity set, the service's own description, paging on the same site only, and filters split
under the query string limit."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils._auth import message_of, parse_json
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    CreatioError, NotCreatioEndpointError, ReadNotPermittedError, UnreadableAnswerError)

try:
    from urllib.parse import quote, urlsplit
except ImportError:  # pragma: no cover
    from urllib import quote  # noqa: F401
    from urlparse import urlsplit  # noqa: F401


def scrubbed(method):
    """Every secret the client knows is removed from an error before it leaves."""
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except CreatioError as exc:
            self.scrub_error(exc)
            raise
    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class ODataReads(object):
    """Mixed into CreatioClient, whose request path (``_api``, ``_send``, ``_json_or_raise``) it uses."""

    @scrubbed
    def odata_clients(self, names=None, client_ids=None):
        """The OAuthClientApp rows matching any of ``names`` / ``client_ids`` (all rows when both
        are None), as dicts with the OData column names. A long filter is split into several
        requests (api.ODATA_MAX_FILTER_LENGTH). Raises ReadNotPermittedError when the site does not
        let this user read the entity."""
        clauses = ["Name eq '%s'" % odata_quote(n) for n in (names or [])]
        clauses += ["ClientId eq '%s'" % odata_quote(c) for c in (client_ids or [])]
        if not clauses:
            return self._odata_rows(None)
        rows, seen = [], set()
        for chunk in filter_chunks(clauses, api.ODATA_MAX_FILTER_LENGTH):
            for row in self._odata_rows(chunk):
                key = row.get('Id') or id(row)  # a row matched by two chunks (name and client id) once
                if key not in seen:
                    seen.add(key)
                    rows.append(row)
        return rows

    def _odata_rows(self, encoded_filter):
        return self.odata_rows('OAuthClientApp', api.ODATA_FIELDS, encoded_filter)

    @scrubbed
    def odata_rows(self, entity, columns, encoded_filter=None, top=None):
        """The rows of OData entity set ``entity`` (``columns`` selected, ``encoded_filter`` a
        percent-encoded $filter), following paging on this site only. Raises ReadNotPermittedError
        when the site does not let this user read the entity."""
        call = 'OData %s' % entity
        query = '$select=' + ','.join(columns) + ('&$filter=' + encoded_filter if encoded_filter else '')
        query += '&$top=%d' % top if top else ''
        path = '/odata/%s?%s' % (entity, query)
        rows, seen_links, url = [], set(), None
        while path or url:
            if path:
                response = self._api('GET', path, call, True, headers={'Accept': 'application/json'})
                path = None
            else:
                response = self._send('GET', url, call=call, safe=True, headers={'Accept': 'application/json'})
            if response.status_code == 404 and parse_json(response) is None:
                # A web server's page, not OData's own refusal: nothing answers there.
                raise NotCreatioEndpointError(
                    '%s answered HTTP 404 with a page that is not OData: the API is not at %s' % (call, self.api_root_url),
                    call=call, status=404,
                    hint='check creatio_url (the site root, keeping any virtual directory) and creatio_platform '
                         '(auto finds where the API lives: under /0 on .NET Framework, at the root on .NET Core)')
            if response.status_code in api.ODATA_REFUSED_STATUSES:
                raise ReadNotPermittedError(
                    'Reading %s through OData is not permitted on this site' % entity, call=call,
                    status=response.status_code, creatio_message=message_of(parse_json(response)),
                    hint='grant the user the "Access to OData" system operation (and read access to %s)' % entity)
            body = self._json_or_raise(response, call)
            rows.extend(checked_rows(body, call, columns))
            url = None if top else body.get(api.ODATA_NEXT_LINK)
            if url:
                url = self._same_site_link(url, seen_links)
        return rows

    @scrubbed
    def odata_metadata(self):
        """The OData service's own description (CSDL XML text), or None when it cannot be read."""
        response = self._api('GET', api.ODATA_METADATA_PATH, 'OData $metadata', True, headers={'Accept': 'application/xml'})
        if response.status_code != 200 or '<' not in (response.text or '')[:200]:
            return None
        return response.text

    def _same_site_link(self, link, seen):
        # Follow paging only on the same origin: the session cookies must not travel elsewhere.
        if link.startswith('/'):
            parts = urlsplit(self.site_url)
            link = '%s://%s%s' % (parts.scheme, parts.netloc, link)
        if urlsplit(link).netloc != urlsplit(self.site_url).netloc or link in seen:
            raise NotCreatioEndpointError(
                'OData paging pointed away from the site or looped', call='OData OAuthClientApp',
                hint='report this: the @odata.nextLink handling is an API assumption of this collection')
        seen.add(link)
        return link


# JSON text as the json module gives it: str, and unicode on Python 2.
TEXT_TYPES = (str, type(u''))


def checked_rows(body, call, columns):
    """The rows of one OData page, or UnreadableAnswerError naming the call and what is wrong with
    the page's shape. OData 4 answers ``value``: a list of objects; in the columns this collection
    selects, Creatio gives an Id and a Name as text, an Is... column as a boolean or null, any other
    as text or null. A page of another shape was not written by Creatio's OData (a gateway or proxy
    changed it): dropping its rows would make integrations look absent and send AddClient for them."""
    value = body.get('value')
    if not isinstance(value, list):
        raise _wrong_shape(call, '"value" is %s, not a list of rows' % (kind_of(value) if 'value' in body else 'missing'))
    for number, row in enumerate(value, 1):
        if not isinstance(row, dict):
            raise _wrong_shape(call, 'row %d is %s, not an object' % (number, kind_of(row)))
        for column in columns:
            if column not in row:
                continue
            found = row[column]
            if column in ('Id', 'Name'):
                wanted, fits = 'text', isinstance(found, TEXT_TYPES)
            elif column.startswith('Is'):
                wanted, fits = 'a boolean or null', found is None or isinstance(found, bool)
            else:
                wanted, fits = 'text or null', found is None or isinstance(found, TEXT_TYPES)
            if not fits:
                raise _wrong_shape(call, 'the %s of row %d is %s, not %s' % (column, number, kind_of(found), wanted))
    return value


def _wrong_shape(call, what):
    return UnreadableAnswerError(
        '%s answered rows of the wrong shape: %s' % (call, what), call=call, status=200,
        hint='nothing was written: something between the collection and Creatio (a gateway or proxy) changes its answers, '
             'or creatio_url does not lead to Creatio\'s OData; check what answers there')


def kind_of(value):
    """What a JSON value is, for a message that must not repeat what an odd answer held."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, TEXT_TYPES):
        return 'text'
    if isinstance(value, list):
        return 'a list'
    if isinstance(value, dict):
        return 'an object'
    return 'missing'  # pragma: no cover


def filter_chunks(clauses, limit):
    """The percent-encoded ``or``-joined filters, each at most ``limit`` long (a single clause
    longer than that goes alone: the server decides)."""
    separator = quote(' or ', safe='')
    chunks, current = [], ''
    for clause in clauses:
        encoded = quote(clause, safe='')
        joined = current + separator + encoded if current else encoded
        if current and len(joined) > limit:
            chunks.append(current)
            joined = encoded
        current = joined
    if current:
        chunks.append(current)
    return chunks


def odata_quote(value):
    """An OData string literal body: single quotes doubled (OData 4 ABNF)."""
    return str(value).replace("'", "''")
