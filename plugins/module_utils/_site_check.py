# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The site check: what holds on a real site before
any change, read-only. The service of creatio_site_check; its report is what a user pastes into an
issue (no secret, no cookie, no token)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import os

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import _recovery as recovery
from ansible_collections.creatio.oauth.plugins.module_utils._auth import ClientCredentialsLogin
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    AuthenticationError, ConfigurationError, CreatioError, ReadNotPermittedError)

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # noqa: F401

OK, FAILED, SKIPPED = 'ok', 'failed', 'skipped'
CONFIRMED, REFUTED, UNKNOWN = 'confirmed', 'refuted', 'not checked'


class Report(object):

    def __init__(self):
        self.checks = []
        self.assumptions = []

    def check(self, name, status, detail):
        self.checks.append({'check': name, 'status': status, 'detail': detail})
        return status == OK

    def assumption(self, text, verdict, evidence):
        self.assumptions.append({'assumption': text, 'verdict': verdict, 'evidence': evidence})


def check_site(run):
    """The service of creatio_site_check."""
    report = Report()
    client = run.client
    try:
        client.logged_in()
        who = run.connection.username or run.connection.client_id
        report.check('login', OK, 'logged in as %s (%s login)' % (who, run.connection.login_kind))
    except CreatioError as exc:
        report.check('login', FAILED, run.scrub(exc).full_message())
        return _result(run, report)
    _odata(run, report, api.ODATA_CLIENTS_ENTITY, ('Id',), None, 'read the integrations (OData %s)' % api.ODATA_CLIENTS_ENTITY,
           'An administrator can read OAuthClientApp through OData')
    report.check('platform', OK if client.platform else FAILED,
                 'the API is at %s (%s)' % (client.api_root_url, client.platform) if client.platform else
                 'no API answered under %s/0 nor %s: check creatio_url' % (run.site, run.site))
    _odata(run, report, api.USERS_ENTITY, ('Id', 'Name'), quote('SysAdminUnitTypeValue eq %d' % api.USER_UNIT_TYPE, safe=''),
           'read the users (OData %s)' % api.USERS_ENTITY, 'Users can be read through OData SysAdminUnit (system_user by name)')
    _identity(run, report)
    entity = run.facts.redirect_entity()
    report.check('redirect-URI entity', OK if entity else SKIPPED,
                 'OData lists the redirect URIs of a client in %s (%s, %s)' % (entity.name, entity.lookup, entity.url_column)
                 if entity else 'not found in the OData description ($metadata): redirect URIs the facts cache does not '
                                'know are reported as unconfirmed')
    report.assumption('The authorized redirect URIs live in an OData entity with a lookup to OAuthClientApp and a URL column',
                      CONFIRMED if entity else UNKNOWN, entity.name if entity else 'not in $metadata')
    methods = run.facts.has_redirect_methods()
    evidence = run.facts.redirect_methods_evidence()
    if run.facts.version_undecided:
        report.check('Creatio version', SKIPPED, 'not decided: the site serves an OpenID configuration (which an 8.1 site may '
                     'serve too), OData shows no redirect-URI entity, and a GET of %s answered neither 405 nor 404; runs '
                     'take 8.3 until something decisive answers' % api.VERSION_PROBE_METHOD)
    else:
        report.check('Creatio version', OK, ('8.3 or later: redirect URI methods and grant types' if methods else
                                             'before 8.3: no redirect URI methods; one redirect URI per integration (redirectUrl), '
                                             'a system user for each') + (' (%s)' % evidence if evidence else ''))
    if evidence and api.VERSION_PROBE_METHOD in evidence:
        report.assumption('A GET of a redirect URI method answers 405 where it exists (8.3) and 404 before 8.3 (WCF)',
                          CONFIRMED, evidence)
    _authorize_endpoint(run, report, entity)
    _read_back(run, report)
    report.assumption('A site without an OpenID configuration nor a redirect-URI entity has no redirect URI methods (before 8.3)',
                      UNKNOWN, 'the check does not call a method that would write')
    return _result(run, report)


def _authorize_endpoint(run, report, entity):
    answers, detail = run.facts.authorize_probe().check()
    if answers is None:
        why = 'not needed, the site lists redirect URIs' if entity else 'redirect URIs the site does not list stay unconfirmed'
        report.check('authorization endpoint', SKIPPED, '%s: %s' % (detail, why))
        return
    report.check('authorization endpoint', OK if answers else FAILED, detail)
    report.assumption('The authorization endpoint refuses an unknown client with HTTP 400 naming invalid_client or '
                      'unauthorized_client, and an unregistered redirect URI with HTTP 400 naming redirect_uri (IdentityServer)',
                      CONFIRMED if answers else REFUTED, detail)


def _read_back(run, report):
    """GetClientSecret, read-only: with a made-up Id (it reads, and there is nothing to read)."""
    exists, detail = recovery.probe(run)
    name = 'read back a secret'
    if exists is None:
        report.check(name, FAILED, '%s could not be asked: %s' % (api.READ_BACK_METHOD, detail))
        return
    report.check(name, OK if exists else SKIPPED,
                 '%s %s: %s' % (api.READ_BACK_METHOD, detail, 'a lost client secret can be read back (recover_secret)' if exists else
                                'a lost client secret cannot be read back from this site; the way out is a new integration (rotation)'))
    report.assumption('GetClientSecret (SRC 8.1; on 8.3 unknown) answers "Record with specified Id does not exist" for an '
                      'unknown Id where it exists, and HTTP 404 after a good login where it does not',
                      CONFIRMED, detail)


def _odata(run, report, entity, columns, encoded_filter, name, assumption):
    try:
        rows = run.client.odata_rows(entity, columns, encoded_filter, top=1)
    except ReadNotPermittedError as exc:
        report.check(name, FAILED, 'refused (HTTP %s): %s' % (exc.status, exc.hint))
        report.assumption(assumption, REFUTED, 'HTTP %s' % exc.status)
        return
    except CreatioError as exc:
        report.check(name, FAILED, run.scrub(exc).full_message())
        report.assumption(assumption, UNKNOWN, exc.message)
        return
    # $top=1: the check asks whether the read is let through, not how many rows the site has.
    report.check(name, OK, 'readable (one row asked for, to check access: %s)' % ('one came back' if rows else 'none there'))
    report.assumption(assumption, CONFIRMED, 'OData answered with JSON rows')


def _identity(run, report):
    client = run.client
    openid = client.openid_configuration()
    report.check('OpenID configuration', OK if openid else SKIPPED,
                 'published; token endpoint %s' % openid['token_endpoint'] if openid else
                 'not published (Creatio before 8.3, or not at %s%s)' % (client.api_root_url, api.OPENID_CONFIGURATION_PATH))
    if openid and client.platform == 'netcore':
        report.assumption('On .NET Core the OpenID configuration is under the API root too', CONFIRMED, client.api_root_url)
    try:
        token_url = client.token_url(required_by='the site check')
    except ConfigurationError as exc:
        report.check('identity service', FAILED, exc.full_message())
        return
    how = 'given' if run.connection.given_token_url else ('discovered' if openid else 'the Creatio cloud convention')
    # A made-up client: the identity service must refuse it. Nothing is created or changed by a refusal.
    probe = ClientCredentialsLogin(token_url, 'creatio-oauth-site-check', binascii.hexlify(os.urandom(16)).decode('ascii'))
    transport = run.transport()
    try:
        probe.login(transport)
        report.check('identity service', FAILED, '%s (%s) issued a token to a made-up client' % (token_url, how))
    except AuthenticationError as exc:
        report.check('identity service', OK,
                     '%s (%s) answers, and refused a made-up client (%s)' % (token_url, how, exc.creatio_message))
        report.assumption('Token failures are HTTP 400 {"error": ...} (IdentityServer convention)', CONFIRMED, exc.creatio_message)
    except CreatioError as exc:
        report.check('identity service', FAILED, '%s (%s): %s' % (token_url, how, run.scrub(exc).full_message()))
    finally:
        transport.close()


def _result(run, report):
    failed = [c['check'] for c in report.checks if c['status'] == FAILED]
    lines = ['Creatio site check of %s' % run.site]
    lines += ['- %-22s %-7s %s' % (c['check'], c['status'], c['detail']) for c in report.checks]
    lines.append('API assumptions:')
    lines += ['- %-11s %s (%s)' % (a['verdict'], a['assumption'], a['evidence']) for a in report.assumptions]
    return {'changed': False, 'checks': report.checks, 'assumptions': report.assumptions, 'site': run.site_summary(),
            'report': lines, 'ok': not failed, 'failed_checks': failed}
