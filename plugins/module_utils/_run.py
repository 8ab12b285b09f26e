# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The run context of one module invocation, and
``run_module``: the one place where a module's service is called and where exceptions become
``fail_json``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # noqa: F401

from ansible_collections.creatio.oauth.plugins.module_utils._authorize_probe import AuthorizeProbe
from ansible_collections.creatio.oauth.plugins.module_utils._cache import FactsCache
from ansible_collections.creatio.oauth.plugins.module_utils._connection import Connection
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    ConfigurationError, CreatioError, MissingLibraryError, unexpected_error)
from ansible_collections.creatio.oauth.plugins.module_utils._lookup import ServerReader
from ansible_collections.creatio.oauth.plugins.module_utils._site import SiteFacts


class LocalRun(object):
    """What every module invocation knows: its parameters, check and diff mode, and the warnings to show. The run
    of a module that talks to no site (creatio_drift_report); ModuleRun adds the site."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.diff = module._diff
        self.warnings = []

    def warn(self, message):
        if message and message not in self.warnings:
            self.warnings.append(message)

    def scrub(self, exc, extra_secrets=()):
        exc.redact([s for s in extra_secrets if s])
        return exc

    def close(self):
        pass


def requests_missing():
    """The error for a run that is about to send a request without requests installed (imported only then: it is
    about half of a module's start-up, which a run that fails validation or trusts the cache never pays)."""
    from ansible_collections.creatio.oauth.plugins.module_utils._transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR
    if HAS_REQUESTS:
        return None
    return MissingLibraryError(missing_required_lib('requests'), 'requests', traceback=REQUESTS_IMPORT_ERROR)


class ModuleRun(LocalRun):
    """What one module invocation knows: its Connection, the facts cache, a lazy client, the OData
    reads, and the warnings to show."""

    def __init__(self, module, login=True, cache=True):
        LocalRun.__init__(self, module)
        self.connection = Connection.from_params(self.params, login=login)
        self.site = self.connection.site_url
        if self.params.get('validate_certs') is False:
            self.warn('validate_certs is false: the TLS certificate of %s is not checked, so the password or client secret '
                      'sent to it could reach an impostor; give ca_path instead' % self.site)
        for option, url in (('creatio_url', self.site), ('creatio_identity_url', self.connection.identity_url)):
            if cleartext_url(url):
                self.warn('%s is %s: plain http, so %s cross the network unencrypted and can be read on the way; use https'
                          % (option, url, 'the password, the session cookies and tokens' if option == 'creatio_url'
                             else 'the client secrets (and new ones checked with verify_tokens)'))
        self.cache = FactsCache(self.connection.cache_path) if cache else None
        if self.cache is not None:
            self.cache.check_usable(writable=not self.check_mode)
            self.warn(self.cache.open_folder_warning())
        self._client = None
        probe = AuthorizeProbe(self.built_client, self.connection, self.transport)
        self.facts = SiteFacts(self.built_client, self.cache, self.site, self.check_mode, self.warn, self.scrub, probe)
        self.reader = ServerReader(self.built_client, self.facts, self.warn, self.connection.cache_path)

    @property
    def client(self):
        return self.built_client()

    def built_client(self):
        """The CreatioClient of this run, built on first need: a run that sends no request never imports requests."""
        if self._client is None:
            missing = requests_missing()
            if missing:
                raise missing
            from ansible_collections.creatio.oauth.plugins.module_utils._client import CreatioClient
            remembered = self.cache.site_fact(self.site, 'api_path') if self.cache is not None else None
            self._client = CreatioClient.for_connection(self.connection, api_path=remembered, on_api_path=self._remember_api_path)
            self._client.warn = self.warn
        return self._client

    def transport(self):
        """A bare transport with this run's TLS settings and timeouts (for the identity service)."""
        missing = requests_missing()
        if missing:
            raise missing
        from ansible_collections.creatio.oauth.plugins.module_utils._transport import HttpTransport
        return HttpTransport.for_connection(self.connection)

    def site_summary(self):
        """What this run found out about the site (nothing is asked for it)."""
        summary = {}
        if self._client is not None and self._client.platform:
            summary['platform'] = self._client.platform
        if self.facts.known_redirect_methods is not None:
            summary['redirect_uri_methods'] = self.facts.known_redirect_methods
            summary['creatio_version'] = '8.3 or later' if self.facts.known_redirect_methods else 'before 8.3'
        return summary

    def _remember_api_path(self, api_path):
        # Detection costs one request on a site the cache has not met; a check run keeps no facts.
        if self.cache is not None and not self.check_mode:
            self.cache.put_site_fact(self.site, 'api_path', api_path)

    def remember(self, name, record):
        """Keep the facts cache in step (never in check mode). ``record`` None forgets ``name``."""
        if self.check_mode:
            return
        if record is None:
            self.cache.delete(self.site, name)
        else:
            self.cache.put(self.site, name, record.cache_entry())

    def name_lock(self, name):
        if self.check_mode:
            return _NoLock()
        return self.cache.name_lock(self.site, name)

    def scrub(self, exc, extra_secrets=()):
        """Remove every secret this run knows, in every form (_errors.scrub_text), from the text of an error."""
        secrets = list(self.connection.secrets()) + [s for s in extra_secrets if s]
        if self._client is not None:
            secrets += self._client.secrets()
        exc.redact(secrets)
        return exc

    def close(self):
        if self._client is not None:
            self._client.transport.close()
            store = self._client.session_store
            if store is not None and store.problem:
                self.warn(store.problem)


def cleartext_url(url):
    """True for a plain http URL to another machine (loopback is this machine: nothing crosses a network)."""
    if not url:
        return False
    parts = urlsplit(url)
    host = (parts.hostname or '').lower()
    loopback = host in ('localhost', '::1') or host.endswith('.localhost') or host.startswith('127.')
    return parts.scheme.lower() == 'http' and not loopback


class _NoLock(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def run_module(module, service, login=True, cache=True, connected=True):
    """Run ``service(run)`` -> result dict, and exit (fail when the result says ``failed``): the one exit of every
    module, so that the warnings of the run are shown on a failure too. ``connected=False`` for a module that talks to
    no site (its run is a LocalRun)."""
    run = None
    try:
        run = ModuleRun(module, login=login, cache=cache) if connected else LocalRun(module)
        result = service(run)
    except CreatioError as exc:
        result = error_result(exc, run, module)
        result['failed'] = True
    except MissingLibraryError as exc:
        # raised before anything was sent; its text names the library and the interpreter, nothing secret
        result = {'msg': exc.message, 'exception': exc.traceback, 'changed': False, 'failed': True,
                  'error': {'type': exc.__class__.__name__, 'library': exc.library}}
    except Exception as exc:  # pylint: disable=broad-except
        # Not one of the collection's own: a failure with a scrubbed message, never a traceback that may
        # hold a secret (a header, a request body).
        result = error_result(unexpected_error(exc), run, module)
        result['failed'] = True
    finally:
        if run is not None:
            run.close()
    for warning in run.warnings if run is not None else ():
        module.warn(warning)
    if result.pop('failed', False):
        module.fail_json(**result)
    module.exit_json(**result)


def error_result(exc, run=None, module=None):
    """The result fields of a failure: msg, error (structured), and what was done before it.
    Secrets the run knows (and, before the run exists, the module's no_log values) are scrubbed from the text first."""
    if run is not None:
        run.scrub(exc)
    if module is not None:
        exc.redact(getattr(module, 'no_log_values', None) or ())
    error = exc.details()
    error['type'] = exc.__class__.__name__
    if isinstance(exc, ConfigurationError):
        error['option'] = exc.option
    result = {'msg': exc.full_message(), 'error': error, 'changed': False}
    done = getattr(exc, 'done', None)
    if done:
        result['operations'] = done
        result['changed'] = True
    files = getattr(exc, 'files', None)
    if files:
        result['files'] = files  # written before the failure (LocalFileError)
        result['changed'] = True
    if getattr(exc, 'secret', None):
        result['client_secret'] = exc.secret  # the documented exception: the run that created it
    return result
