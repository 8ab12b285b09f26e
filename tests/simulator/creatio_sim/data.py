"""Seeded data, names and fixed tables of the simulated Creatio site."""

from __future__ import annotations

from . import odata
from .messages import english

# ---------------------------------------------------------------- seeded users (SysAdminUnit, type 4)

# Supervisor's USER id (SysAdminUnit.Id) as Creatio ships it: what systemUserId wants.
SUPERVISOR_ID = '7f3b869f-34f3-4f20-ab4d-7480a5fdf647'
# Supervisor's CONTACT id: a different record. AddClient/UpdateClient refuse it as systemUserId
# ("Specified system user is not valid."); it shows only as the ContactId of the Supervisor user and
# as CreatedById/ModifiedById (lookups to Contact) of what Supervisor wrote.
SUPERVISOR_CONTACT_ID = '410006e1-ca4e-4502-a9ec-e54d922d2c00'
POWERBI_USER_ID = '6f1c0b1e-7a5d-4a43-9d0b-2c1e0a9b8f01'
WEBHOOK_USER_ID = '0d5a3e22-4c1b-4f7e-8a66-3b9f2d7c5e02'
VIEWER_ID = '2b8e7c44-1d3f-4a59-b0c2-9e6f5a4d3c03'

USER_TYPE = 4  # SysAdminUnitTypeValue of a user (0 organisation, 1 division, 2 manager role, 6 functional role)

USERS = (
    {'id': SUPERVISOR_ID, 'name': 'Supervisor', 'password': 'Supervisor', 'admin': True, 'technical': False,
     'contactId': SUPERVISOR_CONTACT_ID},
    {'id': POWERBI_USER_ID, 'name': 'PowerBIUser', 'password': None, 'admin': False, 'technical': True,
     'contactId': 'c4a1d2e3-5b6f-4a7b-8c9d-0e1f2a3b4c61'},
    {'id': WEBHOOK_USER_ID, 'name': 'WebhookUser', 'password': None, 'admin': False, 'technical': True,
     'contactId': 'd5b2e3f4-6c7a-4b8c-9dae-1f2a3b4c5d62'},
    {'id': VIEWER_ID, 'name': 'Viewer', 'password': 'Viewer', 'admin': False, 'technical': False,
     'contactId': 'e6c3f4a5-7d8b-4c9d-aebf-2a3b4c5d6e63'},
)

# Roles (not users) in SysAdminUnit; three share a name with a user, for ambiguity tests.
ROLES = (
    {'id': 'a29a3ba5-4b0d-de11-9a51-005056c00008', 'name': 'All employees', 'type': 0},
    {'id': '83a43ebc-f36b-1410-298d-001e8c82bcad', 'name': 'System administrators', 'type': 6},
    {'id': 'a8e5b6c7-9fad-4ebf-80d1-4c5d6e7f8a72', 'name': 'PowerBIUser', 'type': 1},
    {'id': 'b9f6c7d8-a0be-4fc0-91e2-5d6e7f8a9b73', 'name': 'Supervisor', 'type': 2},
    {'id': 'f7d4a5b6-8e9c-4dae-bfc0-3b4c5d6e7f71', 'name': 'WebhookUser', 'type': 6},
)

# ---------------------------------------------------------------- the seeded OAuth client

AUTOMATION_CLIENT_NAME = 'Ansible automation'
AUTOMATION_CLIENT_ID = '0123456789ABCDEF0123456789ABCDEF'
AUTOMATION_CLIENT_SECRET = 'automation-secret'
AUTOMATION_RECORD_ID = 'c5a7e3f1-2b4d-4e6f-8a9b-0c1d2e3f4a50'
SEED_TIME = '2024-01-15T08:00:00.000Z'

# ---------------------------------------------------------------- switches

PLATFORMS = ('netframework', 'netcore')
VERSIONS = ('8.3', '8.1')
DATABASES = ('postgresql', 'mssql')
REDIRECT_ENTITY_MODES = ('readable', 'hidden')
# The Identity Service's authorization endpoint (ASSUMED behaviour, contract section 2), listed in the
# OpenID configuration only when on.
AUTHORIZE_ENDPOINT_MODES = ('on', 'off')
# auto: 8.3 serves {api}/.well-known/openid-configuration, 8.1 does not; on: 8.1 serves it too
# (whether a real 8.1 does is unknown, contract section 2); off: neither.
OPENID_CONFIGURATION_MODES = ('auto', 'on', 'off')
# How finely CreatedOn/ModifiedOn are stored: a database may keep whole seconds (ASSUMED unknown for Creatio).
STAMP_PRECISIONS = ('millisecond', 'second')
DEFAULT_REDIRECT_ENTITY = 'OAuthClientAppRedirectUrl'  # ASSUMED name, see README

DEFAULT_CONFIG = {
    'csrf': True,
    'platform': 'netframework',
    'creatio_version': '8.3',
    'language': 'en',
    'database': 'postgresql',
    'oauth_feature': True,
    'identity_up': True,
    'identity_refuses': False,
    'default_resource': True,
    'admin_rights': True,
    'odata_status': None,
    'sysadminunit_status': None,
    'redirect_entity': 'readable',
    'redirect_entity_name': DEFAULT_REDIRECT_ENTITY,
    'authorize_endpoint': 'on',
    'openid_configuration': 'auto',
    'get_client_secret': True,
    'session_expiry': 'json',
    'echo_credentials': False,
    'stamp_precision': 'millisecond',
    'faults': [],
}
BOOL_SWITCHES = ('csrf', 'oauth_feature', 'identity_up', 'identity_refuses', 'default_resource', 'admin_rights',
                 'get_client_secret', 'echo_credentials')
CHOICE_SWITCHES = {
    'platform': PLATFORMS,
    'creatio_version': VERSIONS,
    'language': ('en', 'de'),
    'database': DATABASES,
    'redirect_entity': REDIRECT_ENTITY_MODES,
    'authorize_endpoint': AUTHORIZE_ENDPOINT_MODES,
    'openid_configuration': OPENID_CONFIGURATION_MODES,
    'session_expiry': ('json', 'html'),
    'stamp_precision': STAMP_PRECISIONS,
}
STATUS_SWITCHES = ('odata_status', 'sysadminunit_status')

# ---------------------------------------------------------------- OAuthConfigService

SERVICE_METHODS = {
    'AddClient': 'addClientRequest',
    'AddRedirectUrls': 'redirectUrlsRequest',
    'UpdateRedirectUrl': 'updateRedirectUrlRequest',
    'DeleteRedirectUrl': 'deleteRedirectUrlRequest',
    'UpdateClient': 'updateClientRequest',
    'DeleteClient': 'deleteClientRequest',
    'GetClientSecret': None,  # {"clientAppId": ...}, not wrapped by a parameter name
    'CreateTechnicalUser': 'createTechnicalUserRequest',
}
ONLY_83 = ('AddRedirectUrls', 'UpdateRedirectUrl', 'DeleteRedirectUrl', 'CreateTechnicalUser')
# Methods that read, not write (their log kind is "read").
READ_METHODS = ('GetClientSecret',)
# Methods that the Identity Service must accept (the listener saves through it).
IDENTITY_METHODS = ('AddClient', 'UpdateClient', 'DeleteClient')
GRANT_CC = 'client_credentials'
GRANT_CODE = 'authorization_code'

# ---------------------------------------------------------------- endpoints (log and faults)

ODATA_ENDPOINTS = {'OData': 'OAuthClientApp', 'SysAdminUnit': 'SysAdminUnit', 'RedirectUrlEntity': None}
ENDPOINTS = (('Login', 'Token') + tuple(SERVICE_METHODS) + tuple(ODATA_ENDPOINTS)
             + ('Metadata', 'ODataService', 'OpenIdConfiguration', 'IdentityDiscovery', 'Authorize', 'LoginPage', 'Other'))
FAULT_ENDPOINTS = ENDPOINTS[:-2]
FAULT_KEYS = ('endpoint', 'status', 'count', 'retry_after', 'delay', 'drop', 'phase', 'body', 'content_type', 'rewrite',
              'trickle')

# ---------------------------------------------------------------- OData entities

OAUTH_CLIENT_APP = odata.Entity('OAuthClientApp', odata.audit_columns() + [
    ('Name', odata.STRING, True), ('ClientId', odata.STRING, True), ('ClientSecret', odata.STRING, True),
    ('RedirectUrl', odata.STRING, True), ('ApplicationUrl', odata.STRING, True), ('IsActive', odata.BOOLEAN, False),
    ('SystemUserId', odata.GUID, True), ('Description', odata.STRING, True),
], secure=('ClientSecret',), lookups={'SystemUser': ('SystemUserId', 'SysAdminUnit')})

SYS_ADMIN_UNIT = odata.Entity('SysAdminUnit', odata.audit_columns() + [
    ('Name', odata.STRING, True), ('Description', odata.STRING, True), ('SysAdminUnitTypeValue', odata.INT32, False),
    ('Active', odata.BOOLEAN, False), ('ContactId', odata.GUID, True), ('ConnectionType', odata.INT32, False),
])


def redirect_entity(name):
    """The 8.3 entity of authorized redirect URIs (name ASSUMED, switch redirect_entity_name)."""
    return odata.Entity(name, odata.audit_columns() + [
        ('OAuthClientAppId', odata.GUID, True), ('RedirectUrl', odata.STRING, True),
    ], lookups={'OAuthClientApp': ('OAuthClientAppId', 'OAuthClientApp')})


# OAuthClientApp columns a reader may select (all but ClientSecret).
ODATA_COLUMNS = OAUTH_CLIENT_APP.readable

# ---------------------------------------------------------------- English texts (for tests and docs)

MSG_BAD_LOGIN = english('bad_login')
MSG_NO_RECORD = english('no_record')
MSG_BAD_USER = english('bad_user')
MSG_FEATURE_OFF = english('feature_off')
MSG_IDENTITY_DOWN = english('identity_down', url='{url}')  # a template: .format(url=sim.identity_url)
MSG_IDENTITY_REFUSES = english('identity_refuses')
MSG_NO_DEFAULT_RESOURCE = english('no_default_resource')
MSG_NO_RIGHTS = english('no_rights')
MSG_AUTH_FAILED = english('auth_failed')
MSG_ENDPOINT_NOT_FOUND = english('endpoint_not_found')
