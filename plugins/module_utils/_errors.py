# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Typed exceptions raised by the creatio.oauth module_utils.

module_utils never calls fail_json: they raise one of these, and engine.fail_from_error() is the
one place that turns them into a module failure. Every message here is built from values that are
safe to print: no password, client secret, cookie or token is ever passed to these constructors.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


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

    def redact(self, secrets, mask='********'):
        """Replace every value of ``secrets`` in the text this error will show."""
        for secret in secrets:
            for attr in ('message', 'creatio_message', 'hint'):
                value = getattr(self, attr)
                if isinstance(value, str):
                    setattr(self, attr, value.replace(str(secret), mask))
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
