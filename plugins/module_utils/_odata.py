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
    CreatioError, NotCreatioEndpointError, ReadNotPermittedError, UnreadableAnswerError, unexpected_error)

try:
    from urllib.parse import quote, urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    from urllib import quote  # noqa: F401
    from urlparse import urlsplit, urlunsplit  # noqa: F401


def scrubbed(method):
    """Every secret the client knows is removed from an error before it leaves; an exception that is
    not one of the collection's own leaves as a CreatioError, scrubbed too (its text may quote a header)."""
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except CreatioError as exc:
            self.scrub_error(exc)
            raise
        except Exception as exc:  # pylint: disable=broad-except
            error = unexpected_error(exc)
            self.scrub_error(error)
            raise error
    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class ODataReads(object):
    """Mixed into CreatioClient, whose request path (``_api``, ``_send``, ``_json_or_raise``) and site
    (``site_url``, split once: ``site_parts``, ``site_origin``) it uses."""

    warn = None  # where a warning goes (ModuleRun.warn), when someone listens

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
                url = self._same_site_link(url, seen_links, call)
        return rows

    @scrubbed
    def odata_metadata(self):
        """The OData service's own description (CSDL XML text), or None when it cannot be read."""
        response = self._api('GET', api.ODATA_METADATA_PATH, 'OData $metadata', True, headers={'Accept': 'application/xml'})
        if response.status_code != 200 or '<' not in (response.text or '')[:200]:
            return None
        return response.text

    def _same_site_link(self, link, seen, call):
        """The next page's URL: the site's own origin (scheme, host, port) only, since the session cookie
        or token goes with it. An http link to the https site's own host (a proxy that offloads TLS
        writes those) is followed over https, with a warning; any other origin, or a loop, is refused."""
        if not isinstance(link, str) or not link.strip():
            raise NotCreatioEndpointError(
                '%s answered an %s that is not a URL (a %s)' % (call, api.ODATA_NEXT_LINK, type(link).__name__), call=call,
                hint='something between the controller and the site alters OData answers, or this is not Creatio\'s OData')
        site = self.site_parts
        if link.startswith('/'):
            link = '%s://%s%s' % (site.scheme, site.netloc, link)
        parts = urlsplit(link)
        if (parts.scheme.lower() == 'http' and site.scheme == 'https' and _host(parts) == self.site_origin[1]
                and _port(parts) in (80, self.site_origin[2])):
            link = urlunsplit((site.scheme, site.netloc, parts.path, parts.query, ''))
            if self.warn is not None:
                self.warn('the OData paging links of %s point to http://%s (a proxy that offloads TLS may write them so): they '
                          'were followed over https, the site\'s own scheme, so the session never travels unencrypted'
                          % (self.site_url, _host(parts)))
            parts = urlsplit(link)
        if origin_of_parts(parts) != self.site_origin:
            raise NotCreatioEndpointError(
                '%s: the paging link (%s) points to %s://%s, not to the site %s: not followed (the session cookie or '
                'token goes to the site only)' % (call, api.ODATA_NEXT_LINK, parts.scheme, parts.netloc, self.site_url),
                call=call, hint='check that creatio_url is the address the site calls itself (scheme, host and port), '
                                'and what a proxy in front of it rewrites')
        if link in seen:
            raise NotCreatioEndpointError(
                '%s: OData paging looped (%s came back to a page already read)' % (call, api.ODATA_NEXT_LINK), call=call,
                hint='report this: the @odata.nextLink handling is an API assumption of this collection')
        seen.add(link)
        return link


def origin_of(url):
    """(scheme, host, port) of ``url``, the port made explicit: what "the same site" compares."""
    return origin_of_parts(urlsplit(url))


def origin_of_parts(parts):
    """origin_of of a URL already split."""
    return parts.scheme.lower(), _host(parts), _port(parts)


def _host(parts):
    return (parts.hostname or '').lower()


def _port(parts):
    try:
        port = parts.port
    except ValueError:
        return None
    return port or {'http': 80, 'https': 443}.get(parts.scheme.lower())


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
