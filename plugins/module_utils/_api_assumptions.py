# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The Creatio API facts this collection relies on, with the ones nobody has published in one place.

Labels follow the project's API contract: DOC (Creatio Academy), SRC (read from Creatio 8.1 source),
ASSUMED (published nowhere; parsed tolerantly and listed in docs/docsite/rst/api_assumptions.rst). If a live
Creatio differs from an ASSUMED point, this file is where the fix goes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.creatio.oauth.plugins.module_utils._normalize import stored_url
from ansible_collections.creatio.oauth.plugins.module_utils._records import Evidence, SiteRow


# DOC: forms login lives at the site root, never under /0/.
LOGIN_PATH = '/ServiceModel/AuthService.svc/Login'
# DOC: OAuth 2.0 token endpoint of the identity service.
TOKEN_PATH = '/connect/token'
# DOC + LIVE: the API root {api} is {site}/0 on .NET Framework (Windows installs, the usual cloud
# site) and {site} itself on .NET Core / .NET 6+ (on-site Linux installs); the paths below are under it.
API_ROOTS = {'netframework': '/0', 'netcore': ''}
PLATFORM_OF_ROOT = dict((path, platform) for platform, path in API_ROOTS.items())
# DOC 8.3: the OpenID configuration, anonymous, lists token_endpoint. Under {api} on both platforms
# (.NET Core: ASSUMED); absent before 8.3.
OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration'
# SRC: the service behind the "OAuth 2.0 integrated applications" page.
SERVICE_PATH = '/rest/OAuthConfigService/'
# SRC entity; ASSUMED: that a site lets an administrator read it through OData 4.
ODATA_CLIENTS_PATH = '/odata/OAuthClientApp'
# SRC: the columns of OAuthClientApp we read. ClientSecret is never selected (and never returned).
ODATA_FIELDS = ('Id', 'Name', 'ClientId', 'ApplicationUrl', 'RedirectUrl', 'IsActive', 'SystemUserId', 'CreatedOn')
ODATA_CLIENTS_ENTITY = 'OAuthClientApp'
# ASSUMED (issue 14): Creatio 8.3's integration page lists each client's redirect URIs with their ids,
# so they live in an entity; its name is published nowhere. The collection looks for it in $metadata:
# an entity set with a lookup to OAuthClientApp (a navigation property, or this column) and a column
# whose name ends in "url". Rows are read with $select=Id,<lookup>,<url column> and a $filter of
# "<lookup> eq <OAuthClientApp Id>" clauses joined with "or" (docs: api_assumptions.rst, 17).
REDIRECT_ENTITY_LOOKUP = 'OAuthClientAppId'
REDIRECT_ENTITY_URL_SUFFIX = 'url'


class ServiceMethod(object):
    """One OAuthConfigService method: the wrapper key of its request body (SRC: WCF
    BodyStyle.Wrapped) and whether repeating it after a lost answer is harmless."""

    def __init__(self, name, parameter, safe_to_repeat):
        self.name = name
        self.parameter = parameter
        self.safe_to_repeat = safe_to_repeat


SERVICE_METHODS = dict((m.name, m) for m in (
    # AddClient does not deduplicate by name and returns the only copy of the secret (SRC): never
    # repeated blindly. A lost answer is settled by reading back (_executor), not by sending again.
    ServiceMethod('AddClient', 'addClientRequest', False),
    # Adding the same URI twice creates two rows (ASSUMED, like AddClient): never repeated blindly.
    ServiceMethod('AddRedirectUrls', 'redirectUrlsRequest', False),
    # By id, to an absolute value: repeating lands in the same state.
    ServiceMethod('UpdateRedirectUrl', 'updateRedirectUrlRequest', True),
    ServiceMethod('DeleteRedirectUrl', 'deleteRedirectUrlRequest', True),
    # SRC 8.1, undocumented in 8.3 (ASSUMED still present). Sets absolute values: repeatable.
    ServiceMethod('UpdateClient', 'updateClientRequest', True),
    # A repeat answers "does not exist", which _executor treats as done.
    ServiceMethod('DeleteClient', 'deleteClientRequest', True),
    # LIVE (newer versions; absent in 8.1): creates a technical user; never repeated blindly.
    ServiceMethod('CreateTechnicalUser', 'createTechnicalUserRequest', False),
    # SRC 8.1 (the integration page calls it each time it opens); on 8.3 ASSUMED unknown. A read: safe to repeat.
    # Its one parameter is the bare body {"clientAppId": <OAuthClientApp Id>} (SRC: not wrapped by a name, so
    # parameter None), and clientAppId is the OData row's Id, not the client id.
    ServiceMethod('GetClientSecret', None, True),
))
# ASSUMED: GetClientSecret with an Id that no integration has answers "Record with specified Id does not exist"
# (success false) where the method exists, and 404 (METHOD_ABSENT_STATUS) after a good login where it does not:
# the site check's read-only probe (_site_check.py), and the site fact "get_client_secret" (_recovery.py).
READ_BACK_METHOD = 'GetClientSecret'
# Users (contract section 4): SysAdminUnit rows whose SysAdminUnitTypeValue is 4; a systemUserId is the
# Id of such a row (SRC), never the Id of the user's contact. Readable like any entity: ASSUMED.
USERS_ENTITY = 'SysAdminUnit'
USER_UNIT_TYPE = 4


# ASSUMED: the AddRedirectUrls result lists the rows it created as {"id", "redirectUrl"} under
# "redirectUrls". Read tolerantly: any key case, "url" as an alias, a bare list.
ADD_REDIRECT_URLS_RESULT_KEYS = ('redirectUrls', 'redirectUrlList', 'items')
REDIRECT_URL_ID_KEYS = ('id', 'redirectUrlId')
REDIRECT_URL_VALUE_KEYS = ('redirectUrl', 'url')

# SRC 8.1 messages of business errors (HTTP 200, success: false). Creatio translates them, so the ones
# that concern the whole site are recognised by what does not get translated: setting names, feature
# codes, operation codes (contract section 3). Each: (kind, markers, hint).
SITE_WIDE_MESSAGES = (
    # "To enable OAuth 2.0 set Feature-EnableOAuth20Integration = true in AppSettings ..." (8.1; 8.3: OAuth20Integration)
    ('feature_off', ('Feature-EnableOAuth20Integration', 'OAuth20Integration'),
     'switch on the OAuth 2.0 integration feature of the site (Feature-EnableOAuth20Integration in the AppSettings of '
     'the application config on 8.1, the OAuth20Integration feature on 8.3), then re-run'),
    # 'Unable to connect to OAuth server at "<url>" (system setting OAuth20IdentityServerUrl)'
    ('identity_unreachable', ('OAuth20IdentityServerUrl',),
     "Creatio cannot reach its Identity Service: check that it runs and that the OAuth20IdentityServerUrl system "
     "setting points at it; nothing was written, re-run when it is back"),
    # "Unable to handle client application. Please check ... OAuth20IdentityServerClientId, OAuth20IdentityServerClientSecret."
    ('identity_refuses', ('OAuth20IdentityServerClientId', 'OAuth20IdentityServerClientSecret'),
     'the Identity Service refuses Creatio itself: check the OAuth20IdentityServerClientId and '
     'OAuth20IdentityServerClientSecret system settings; nothing was written'),
    # The caller lacks the system operation: the refusal names its code (wording unknown, contract section 3).
    ('no_permission', ('CanManageSolution',),
     'log in as a user with the CanManageSolution system operation (an administrator)'),
    # "Default resource does not exist": no untranslated part; recognised in English only (ASSUMED).
    ('default_resource', ('Default resource does not exist',),
     'the Identity Service of the site was never set up (no default resource): finish the OAuth 2.0 setup of the site'),
)
# One integration's input or record; translated, so these English texts only pick a hint.
MESSAGE_RECORD_NOT_FOUND = 'record with specified id does not exist'
MESSAGE_INVALID_SYSTEM_USER = 'specified system user is not valid'


def site_wide_kind(message):
    """(kind, hint) of a business error that concerns the whole site, or (None, None)."""
    text = (message or '').lower()
    for kind, markers, hint in SITE_WIDE_MESSAGES:
        if any(marker.lower() in text for marker in markers):
            return kind, hint
    return None, None


# DOC: an expired session answers 401, or redirects to one of these HTML login pages.
LOGIN_PAGE_MARKERS = ('/login/nuilogin.aspx', '/login/login.html')

# ASSUMED (IdentityServer convention): token failures are HTTP 400 {"error": "..."}.
TOKEN_ERROR_KEY = 'error'

# OData 4: the service describes itself (CSDL XML) at $metadata.
ODATA_METADATA_PATH = '/odata/$metadata'
# ASSUMED: OData refusal after a good login shows as one of these statuses.
ODATA_REFUSED_STATUSES = (401, 403, 404)
# ASSUMED: long result sets are paged with the standard OData 4 "@odata.nextLink".
ODATA_NEXT_LINK = '@odata.nextLink'
# ASSUMED: Creatio sits behind IIS (or a proxy) that refuses query strings over 2,048 bytes (the IIS
# default maxQueryString). A lookup of many integrations splits its $filter into requests whose
# percent-encoded filter stays under this, leaving room for $select and the paging parameters.
ODATA_MAX_FILTER_LENGTH = 1500

# ASSUMED (issue 21): how finely CreatedOn is kept is unknown (a database may keep whole seconds). Two
# creations of one name within one step then share a stamp, and the tie goes to the lower Id, which is
# not the order they happened in: a run that read back before its rival's AddClient landed saw only its
# own. So a run reads its own creations back once more when every rival stamped in the same step has
# landed: one step after its AddClient was answered (created_on_step), plus this margin for the rival's
# write to show in OData. Steps coarser than a second are not expected.
CREATED_ON_COARSEST_STEP = 1.0
RACE_SETTLE_MARGIN = 0.25
_STAMP_FRACTION = re.compile(r'T\d\d:\d\d:\d\d(?:[.,](\d+))?')


def created_on_step(created_on):
    """The coarsest step of CreatedOn that a stamp allows, in seconds: 10**-d for the d fractional
    digits up to its last non-zero one ("...:05.120Z": 0.01); a whole second when they are all zero,
    absent, or the stamp is unknown."""
    match = _STAMP_FRACTION.search(created_on) if isinstance(created_on, (str, type(u''))) else None
    digits = (match.group(1) or '').rstrip('0') if match else ''
    return min(CREATED_ON_COARSEST_STEP, 10.0 ** -len(digits)) if digits else CREATED_ON_COARSEST_STEP


# DOC: on Creatio cloud the identity service host is the site host with "-is" after its first label.
_CLOUD_HOST = re.compile(r'^([^.]+)(\.creatio\.com)$', re.IGNORECASE)


def default_identity_url(scheme, host):
    """The identity service URL that Creatio cloud uses for a site host, or None off cloud."""
    match = _CLOUD_HOST.match(host or '')
    if not match:
        return None
    return '%s://%s-is%s' % (scheme, match.group(1), match.group(2))


def lower_keys(obj):
    """A shallow copy of a dict with lower-case keys (Creatio keys are read without regard to case)."""
    if not isinstance(obj, dict):
        return {}
    return dict((str(k).lower(), v) for k, v in obj.items())


def unwrap_result(method, payload):
    """The inner result of an OAuthConfigService answer: "<Method>Result" when present (SRC), the
    bare object otherwise (tolerance)."""
    if not isinstance(payload, dict):
        return {}
    wanted = (method + 'Result').lower()
    for key, value in payload.items():
        if str(key).lower() == wanted and isinstance(value, dict):
            return value
    return payload


def parse_added_redirect_urls(result):
    """[(id, url)] from an AddRedirectUrls result, tolerant of the shapes named above."""
    rows = result if isinstance(result, list) else None
    if rows is None:
        lowered = lower_keys(result)
        for key in ADD_REDIRECT_URLS_RESULT_KEYS:
            if isinstance(lowered.get(key.lower()), list):
                rows = lowered[key.lower()]
                break
    parsed = []
    for row in rows or []:
        row = lower_keys(row)
        rid = next((row[k.lower()] for k in REDIRECT_URL_ID_KEYS if row.get(k.lower())), None)
        url = next((row[k.lower()] for k in REDIRECT_URL_VALUE_KEYS if row.get(k.lower())), None)
        if url:
            parsed.append((str(rid) if rid else None, url))
    return parsed


def message_matches(message, markers):
    text = (message or '').lower()
    if isinstance(markers, str):
        markers = (markers,)
    return any(marker in text for marker in markers)


EMPTY_GUID = '00000000-0000-0000-0000-000000000000'


def record_from_odata(row):
    """A SiteRow (a Record and the Evidence of this read) from an OAuthClientApp row; its RedirectUrl
    normalised here, where it enters.

    ASSUMED: OData does not expose the grant type; an integration with a system user is a
    client_credentials one (Creatio 8.3 only accepts systemUserId with that grant; before 8.3 every
    client has one). ``RedirectUrl`` holds one redirect URI at most: before 8.3 that is the whole list
    (SRC), on 8.3 its meaning is unknown. So ``redirect_urls`` stays unknown (None) here: the lookup
    settles it from evidence (the site's version, the redirect-URI entity).
    """
    lowered = lower_keys(row)
    system_user = lowered.get('systemuserid') or None
    if system_user and str(system_user).lower() == EMPTY_GUID:
        system_user = None
    first_redirect = lowered.get('redirecturl') or None
    app_id = lowered.get('id')
    return SiteRow(
        lowered.get('name'),
        client_id=lowered.get('clientid'),
        application_url=lowered.get('applicationurl'),
        system_user_id=str(system_user).lower() if system_user else None,
        active=bool(lowered['isactive']) if lowered.get('isactive') is not None else None,
        grant_type='client_credentials' if system_user else 'authorization_code',
        redirect_urls=None,
        evidence=Evidence(column=stored_url(first_redirect) if first_redirect else None),
        app_id=str(app_id).lower() if app_id else None,
        created_on=lowered.get('createdon'))


# ASSUMED (issue 21, IdentityServer convention; contract section 2): the authorization endpoint that the
# OpenID configuration lists as "authorization_endpoint" checks, before any login, first the client, then
# the redirect URI: an unknown client -> HTTP 400 HTML page naming one of AUTHORIZE_UNKNOWN_CLIENT_MARKERS;
# a redirect URI not registered for the client -> HTTP 400 HTML page naming AUTHORIZE_BAD_REDIRECT_MARKER;
# a registered one -> a redirect (the login page, or an error sent to that very URI). It changes nothing, so
# a GET with response_type=code is a read-only probe of whether one URI is registered; it cannot count rows.
# The markers are protocol codes, which no translation touches.
AUTHORIZE_ENDPOINT_KEY = 'authorization_endpoint'
AUTHORIZE_PROBE_SCOPE = 'openid'
AUTHORIZE_UNKNOWN_CLIENT_MARKERS = ('invalid_client', 'unauthorized_client')
AUTHORIZE_BAD_REDIRECT_MARKER = 'redirect_uri'

# ASSUMED (issue 21; WCF REST convention): an OAuthConfigService method takes POST only, so a GET of it
# changes nothing and, after a good login, answers HTTP 405 where the method exists (Creatio 8.3) and
# 404 "Endpoint not found" where it does not (before 8.3, contract section 3). It is the decisive
# evidence of the version where the OData description shows no redirect-URI entity and the site serves
# an OpenID configuration (which an 8.1 site may serve too: unknown).
VERSION_PROBE_METHOD = 'AddRedirectUrls'
METHOD_EXISTS_STATUS = 405
METHOD_ABSENT_STATUS = 404

# Site facts that say "there is none" (the redirect-URI entity, the redirect URI methods) are asked
# again after this many seconds, and on every drift or export run (a site is upgraded, a permission granted).
NEGATIVE_FACT_MAX_AGE = 24 * 3600
