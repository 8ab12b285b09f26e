# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Typed exceptions raised by the creatio.oauth module_utils.

module_utils never calls fail_json: they raise one of these, and _run.run_module() is the
one place that turns them into a module failure. Every message here is built from values that are
safe to print: no password, client secret, cookie or token is ever passed to these constructors.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

try:
    from urllib.parse import quote, quote_plus
except ImportError:  # pragma: no cover
    from urllib import quote, quote_plus  # noqa: F401

MASK = '********'
# Secrets shorter than this are not scrubbed: they would mask ordinary words and numbers.
MIN_SECRET_LENGTH = 4


def secret_forms(secret):
    """Every form in which ``secret`` can come back in a text: as it is, JSON-escaped (ASCII and not;
    with "/" escaped too, as .NET may), percent-encoded (a path or a query) and form-encoded, with
    upper- and lower-case hex digits. Longest first, so that no form is left half masked."""
    text = secret if isinstance(secret, str) else str(secret)
    forms = set([text])
    for ensure_ascii in (True, False):
        escaped = json.dumps(text, ensure_ascii=ensure_ascii)[1:-1]
        forms.update([escaped, escaped.replace('/', '\\/')])
    for encoded in (quote(text, safe=''), quote(text), quote_plus(text, safe='')):
        forms.update([encoded, re.sub('%[0-9A-F]{2}', lambda m: m.group(0).lower(), encoded)])
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub_text(text, secrets, mask=MASK):
    """``text`` with every form of every secret (see secret_forms) masked: the one scrubbing rule."""
    if not isinstance(text, str) or not text:
        return text
    for secret in secrets:
        if secret is None or len(str(secret)) < MIN_SECRET_LENGTH:
            continue
        for form in secret_forms(secret):
            text = text.replace(form, mask)
    return text


def unexpected_error(exc):
    """A CreatioError for an exception that is not one of the collection's own (a bug, or a library
    failing in a way nobody foresaw): its class and text, to be scrubbed like any other error."""
    return CreatioError('unexpected error: %s: %s' % (exc.__class__.__name__, exc),
                        hint='report this as a bug of creatio.oauth (with this message); a re-run is safe to try')


class CreatioError(Exception):
    """Base class. ``call`` names the API call, ``status`` the HTTP status (or None),
    ``creatio_message`` what Creatio said, ``hint`` what the user can do about it."""

    def __init__(self, message, call=None, status=None, creatio_message=None, hint=None):
        super(CreatioError, self).__init__(message)
        self.message = message
        self.call = call
        self.status = status
        self.creatio_message = creatio_message
        self.hint = hint

    def details(self):
        """The structured fields, for the module result."""
        return {
            'call': self.call,
            'status': self.status,
            'creatio_message': self.creatio_message,
            'hint': self.hint,
        }

    def redact(self, secrets, mask=MASK):
        """Mask every value of ``secrets``, in every form it can take (scrub_text), in the text this error will show."""
        secrets = list(secrets)
        for attr in ('message', 'creatio_message', 'hint', 'call'):
            setattr(self, attr, scrub_text(getattr(self, attr), secrets, mask))
        self.args = (self.message,)

    def full_message(self):
        parts = [self.message]
        if self.call:
            parts.append('call: %s' % self.call)
        if self.status is not None:
            parts.append('HTTP status: %s' % self.status)
        if self.creatio_message:
            parts.append('Creatio said: %s' % self.creatio_message)
        if self.hint:
            parts.append('hint: %s' % self.hint)
        return '. '.join(p.rstrip('.') for p in parts) + '.'


class ConfigurationError(CreatioError):
    """Bad input found before any request was sent. ``option`` names the offending option."""

    def __init__(self, message, option=None, hint=None):
        super(ConfigurationError, self).__init__(message, hint=hint)
        self.option = option

    def within(self, item, say_where=True, label=None):
        """The same error, placed in an item of a list option: ``item`` is like ``clients[2]``,
        ``label`` what the message calls it (the item and its name, say). ``say_where=False`` when
        the message is shown next to the item anyway."""
        self.option = '%s.%s' % (item, self.option) if self.option else item
        if say_where:
            self.message = '%s: %s' % (label or item, self.message)
            self.args = (self.message,)
        return self


class CacheError(CreatioError):
    """The local facts cache cannot be read, parsed, locked or written."""

    def __init__(self, message, path=None, hint=None):
        super(CacheError, self).__init__(message, hint=hint)
        self.path = path


class TransportError(CreatioError):
    """No usable HTTP answer: connection refused or dropped, timeout, TLS failure.

    ``may_have_reached_server`` is True when the request may have been processed even though no
    answer came back (a read timeout, a connection dropped after sending). For unsafe calls that
    is the "lost answer" case the modules resolve by reading back.
    """

    def __init__(self, message, call=None, hint=None, may_have_reached_server=False, timed_out=False):
        super(TransportError, self).__init__(message, call=call, hint=hint)
        self.may_have_reached_server = may_have_reached_server
        # Sent, and no answer in time: the server may still be working on the request.
        self.timed_out = timed_out


class TLSError(TransportError):
    """The server certificate could not be verified."""


class HttpError(CreatioError):
    """An HTTP status that is not a success, after re-login and retries were exhausted."""


class AuthenticationError(CreatioError):
    """Login refused: forms login ``Code: 1`` or the identity service refused the client."""


class NotCreatioEndpointError(CreatioError):
    """HTML (or other non-JSON) where Creatio answers JSON."""


class UnreadableAnswerError(NotCreatioEndpointError):
    """An answer that came (HTTP 2xx) but cannot be read as the contract says: not JSON, a result
    whose ``success`` is not a boolean, OData rows of the wrong shape. For a write, Creatio may have
    carried it out: the executor settles that by reading back, never by sending the write again."""


class BusinessError(CreatioError):
    """OAuthConfigService answered HTTP 200 with ``success: false``. ``site_wide`` names the kind of a
    refusal that concerns the whole site (feature off, Identity Service down, ...), None otherwise."""

    def __init__(self, message, call=None, status=None, creatio_message=None, hint=None, error_code=None, site_wide=None):
        super(BusinessError, self).__init__(message, call=call, status=status, creatio_message=creatio_message, hint=hint)
        self.error_code = error_code
        self.site_wide = site_wide


class RecordNotFoundError(BusinessError):
    """``success: false`` with "Record with specified Id does not exist."."""


class ReadNotPermittedError(CreatioError):
    """OData read refused (401/403/404) although the login itself succeeded. Modules fall back to
    the local facts cache and warn."""


class LostAnswerError(CreatioError):
    """A call that is not safe to repeat was sent, and its answer was lost; reading back could not
    settle what happened. A re-run is safe: it reads back before writing."""


class LocalFileError(CreatioError):
    """A file on the controller (a report) cannot be written. ``files`` are the ones this run wrote before it."""

    def __init__(self, message, path=None, hint=None, files=None):
        super(LocalFileError, self).__init__(message, hint=hint)
        self.path = path
        self.files = list(files or ())


class MissingLibraryError(Exception):
    """A Python library the module needs (requests) is not installed for the module's Python. ``traceback`` is the
    text of the import error, for the result's ``exception``.

    Not a CreatioError on purpose: the code that turns a CreatioError into one item's failure, an unknown answer or a
    finding of a check must not catch it. The run stops here (nothing was sent yet) and run_module reports it."""

    def __init__(self, message, library, traceback=None):
        super(MissingLibraryError, self).__init__(message)
        self.message = message
        self.library = library
        self.traceback = traceback
