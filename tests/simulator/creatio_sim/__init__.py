"""Strict simulator of the Creatio OAuth 2.0 integration API (standard library only).

Import it through ``creatio_simulator`` (tests put ``tests/simulator`` on ``sys.path``). The binding
specification is docs/dev/design.md, section "The simulator"; the wire contract is the project's
creatio-api.md (sections 0 to 4).

Modules: ``data`` (seeded data, switches, entity descriptions), ``messages`` (English and German
texts), ``odata`` (the OData 4 reader), ``server`` (HTTP plumbing), ``site`` (one simulated site:
the Simulator class), ``fleet`` (several sites in one process), ``cli`` (the command line).
"""

from .data import (
    AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_NAME, AUTOMATION_CLIENT_SECRET, AUTOMATION_RECORD_ID, DATABASES,
    DEFAULT_CONFIG, DEFAULT_REDIRECT_ENTITY, ENDPOINTS, FAULT_ENDPOINTS, FAULT_KEYS, GRANT_CC, GRANT_CODE,
    MSG_AUTH_FAILED, MSG_BAD_LOGIN, MSG_BAD_USER, MSG_ENDPOINT_NOT_FOUND, MSG_FEATURE_OFF, MSG_IDENTITY_DOWN,
    MSG_IDENTITY_REFUSES, MSG_NO_DEFAULT_RESOURCE, MSG_NO_RECORD, MSG_NO_RIGHTS, ODATA_COLUMNS, ONLY_83, PLATFORMS,
    POWERBI_USER_ID, ROLES, SERVICE_METHODS, SUPERVISOR_CONTACT_ID, SUPERVISOR_ID, USER_TYPE, USERS, VERSIONS,
    VIEWER_ID, WEBHOOK_USER_ID,
)
from .fleet import SimulatorFleet
from .messages import CATALOGUE, LANGUAGES, text
from .server import is_loopback
from .site import MAX_QUERY_STRING, Simulator, canonical_guid, normalize_site_path

__all__ = [
    'AUTOMATION_CLIENT_ID',
    'AUTOMATION_CLIENT_NAME',
    'AUTOMATION_CLIENT_SECRET',
    'AUTOMATION_RECORD_ID',
    'CATALOGUE',
    'DATABASES',
    'DEFAULT_CONFIG',
    'DEFAULT_REDIRECT_ENTITY',
    'ENDPOINTS',
    'FAULT_ENDPOINTS',
    'FAULT_KEYS',
    'GRANT_CC',
    'GRANT_CODE',
    'LANGUAGES',
    'MAX_QUERY_STRING',
    'MSG_AUTH_FAILED',
    'MSG_BAD_LOGIN',
    'MSG_BAD_USER',
    'MSG_ENDPOINT_NOT_FOUND',
    'MSG_FEATURE_OFF',
    'MSG_IDENTITY_DOWN',
    'MSG_IDENTITY_REFUSES',
    'MSG_NO_DEFAULT_RESOURCE',
    'MSG_NO_RECORD',
    'MSG_NO_RIGHTS',
    'ODATA_COLUMNS',
    'ONLY_83',
    'PLATFORMS',
    'POWERBI_USER_ID',
    'ROLES',
    'SERVICE_METHODS',
    'SUPERVISOR_CONTACT_ID',
    'SUPERVISOR_ID',
    'Simulator',
    'SimulatorFleet',
    'USERS',
    'USER_TYPE',
    'VERSIONS',
    'VIEWER_ID',
    'WEBHOOK_USER_ID',
    'canonical_guid',
    'is_loopback',
    'normalize_site_path',
    'text',
]
