# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Validation and normalisation of user input and of what Creatio or the cache hold.

The same functions feed the comparison in the planner and the before/after of the diff, so that
what the module reports as a difference is exactly what it acts on.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import unicodedata

from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit, urlunsplit  # noqa: F401

GUID_RE = re.compile(r'^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$')
SCHEME_RE = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*$')
# Characters RFC 3986 never allows unescaped in a URI.
FORBIDDEN_URI_CHARS = re.compile(r'[\s"<>\\^`{|}\x00-\x1f\x7f]')
MAX_URL_LENGTH = 2048
MAX_NAME_LENGTH = 250
# Schemes that would turn an authorization redirect into code execution or a local file read.
DANGEROUS_SCHEMES = ('javascript', 'data', 'vbscript', 'file', 'about', 'blob')


def name(value, option='name'):
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError('%s must be a non-empty string' % option, option=option)
    if value != value.strip():
        raise ConfigurationError('%s must not start or end with white space (got %r)' % (option, value), option=option,
                                 hint='the name is the key of the integration: remove the spaces')
    if len(value) > MAX_NAME_LENGTH:
        raise ConfigurationError('%s is %d characters long; Creatio keeps at most %d' % (option, len(value), MAX_NAME_LENGTH),
                                 option=option)
    hidden = _first_hidden_character(value)
    if hidden is not None:
        position, char = hidden
        raise ConfigurationError('%s must not contain control or invisible characters: %r has U+%04X (%s) at position %d'
                                 % (option, value, ord(char), unicodedata.name(char, unicodedata.category(char)), position + 1),
                                 option=option, hint='retype the name: such characters come from copied text, and would make two '
                                                     'names that look the same differ')
    return value


# Control characters (C0, DEL, C1 such as U+0085 NEL), format characters (zero-width spaces and
# joiners, bidirectional controls, the byte order mark, the soft hyphen), the line and paragraph
# separators U+2028/U+2029, and lone surrogates: none is seen, several end a line in logs and YAML.
HIDDEN_CATEGORIES = ('Cc', 'Cf', 'Zl', 'Zp', 'Cs')


def _first_hidden_character(value):
    for position, char in enumerate(value):
        if unicodedata.category(char) in HIDDEN_CATEGORIES:
            return position, char
    return None


GUID_HINTS = {
    'user': 'give the Id of the user record (System designer > Users, or OData SysAdminUnit), not of its contact',
    'redirect URI': 'copy the Id column of "Authorized redirect URIs" on the integration page in Creatio',
}


def guid(value, option, what='user'):
    """A GUID in Creatio's lower-case form, or None. ``what`` it identifies picks the hint."""
    if value is None:
        return None
    match = GUID_RE.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        raise ConfigurationError('%s must be a GUID (8-4-4-4-12 hexadecimal digits, such as '
                                 '7f3b869f-34f3-4f20-ab4d-7480a5fdf647), got %r' % (option, value),
                                 option=option, hint=GUID_HINTS[what])
    return match.group(1).lower()


def client_id(value, option='client_id'):
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r'^[A-Za-z0-9._-]{1,128}$', value):
        raise ConfigurationError('%s must be the client id Creatio shows for the integration (letters and digits), got %r'
                                 % (option, value), option=option)
    return value


def url(value, option, allow_private_scheme=False, allow_fragment=False):
    """Validate an absolute URL and return it with scheme and host lower-case.

    Redirect URIs (``allow_private_scheme``) may use a private-use scheme of a native app, such as
    ``com.example.app:/callback`` (RFC 8252 section 7.1), and never a fragment (RFC 6749 section 3.1.2).
    """
    if not isinstance(value, str):
        raise ConfigurationError('%s must be a string URL, got %s %r' % (option, type(value).__name__, value), option=option)
    if not value:
        raise ConfigurationError('%s contains an empty URL' % option, option=option)
    if '@' in value.split('//', 1)[-1].split('/', 1)[0] and '//' in value:
        # First, so that no later message echoes a password pasted into the URL.
        raise ConfigurationError('%s: URLs with a user name or password are not accepted' % option, option=option)
    if len(value) > MAX_URL_LENGTH:
        raise ConfigurationError('%s has a URL of %d characters; the limit is %d' % (option, len(value), MAX_URL_LENGTH),
                                 option=option)
    if FORBIDDEN_URI_CHARS.search(value):
        raise ConfigurationError('%s: %r contains white space or a character that is not allowed in a URI' % (option, value),
                                 option=option, hint='percent-encode it (a space is %20)')
    try:
        value.encode('ascii')
    except UnicodeEncodeError:
        raise ConfigurationError('%s: %r contains non-ASCII characters' % (option, value), option=option,
                                 hint='percent-encode the path and use the punycode (xn--) form of the host name')
    scheme, _sep, rest = value.partition(':')
    if not _sep or not SCHEME_RE.match(scheme):
        raise ConfigurationError('%s: %r is not an absolute URL (no scheme)' % (option, value), option=option,
                                 hint='write it in full, e.g. https://app.example.com/callback')
    scheme_l = scheme.lower()
    if '#' in value and not allow_fragment:
        raise ConfigurationError('%s: %r has a fragment (#...); redirect URIs must not (RFC 6749 section 3.1.2)' % (option, value),
                                 option=option, hint='remove the part from # on')
    parts = urlsplit(value)
    if scheme_l in ('http', 'https'):
        if not rest.startswith('//') or not parts.hostname:
            raise ConfigurationError('%s: %r has no host' % (option, value), option=option)
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError('%s: %r has an invalid port' % (option, value), option=option)
        if '@' in parts.netloc:
            raise ConfigurationError('%s: URLs with a user name or password are not accepted' % option, option=option)
        return urlunsplit((scheme_l, netloc_of(parts, port), parts.path, parts.query, parts.fragment))
    if not allow_private_scheme:
        raise ConfigurationError('%s: %r must be an http or https URL' % (option, value), option=option)
    if scheme_l in DANGEROUS_SCHEMES or '.' not in scheme_l:
        raise ConfigurationError(
            '%s: %r uses the scheme %r; use https, http (loopback for native apps), or a private-use scheme in reverse '
            'domain form such as com.example.app:/callback (RFC 8252)' % (option, value, scheme), option=option)
    if not rest:
        raise ConfigurationError('%s: %r has nothing after the scheme' % (option, value), option=option)
    return scheme_l + ':' + rest


def netloc_of(parts, port):
    """Host lower-case (brackets kept for IPv6) and the port as given: the one host rule of every URL."""
    host = parts.hostname.lower()
    if ':' in host:
        host = '[%s]' % host
    return host + (':%d' % port if port else '')


def redirect_url(value, option='redirect_url'):
    """A redirect URI to authorize: https, a private-use scheme, or http to a loopback address only
    (RFC 8252 section 7.3; OAuth 2.0 Security BCP): over plain http to another host the authorization
    code travels readable by anyone on the way."""
    normalised = url(value, option, allow_private_scheme=True)
    if normalised.startswith('http:') and not _is_loopback(urlsplit(normalised).hostname):
        raise ConfigurationError('%s: %r uses plain http to a host that is not loopback; the authorization code would travel '
                                 'unencrypted' % (option, value), option=option,
                                 hint='use https, or http only for a native app listening on 127.0.0.1, [::1] or localhost')
    return normalised


def _is_loopback(host):
    if host == 'localhost' or host == '::1':
        return True
    return bool(re.match(r'\A127(\.\d{1,3}){3}\Z', host or ''))


def redirect_urls(values, option='redirect_urls', removing=False):
    """Validated, normalised, duplicates dropped, first occurrence order kept. ``removing``: URIs to
    remove, which may be any that Creatio holds (also plain http ones to other hosts)."""
    if values is None:
        return None
    if not isinstance(values, list):
        raise ConfigurationError('%s must be a list of URLs' % option, option=option)
    seen = []
    for value in values:
        normalised = url(value, option, allow_private_scheme=True) if removing else redirect_url(value, option)
        if normalised not in seen:
            seen.append(normalised)
    return seen


def stored_url(value):
    """Normalise a URL that came from Creatio or the cache, without refusing it."""
    try:
        return url(value, 'stored', allow_private_scheme=True, allow_fragment=True)
    except ConfigurationError:
        return value
