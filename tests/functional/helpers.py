# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers shared by the functional tests: reading the simulator log and state, reading the
facts cache, and changing the simulator "behind the collection's back" through its real API."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import http.cookiejar
import json
import os
import sys
import urllib.request

# Where the checkout and the test venv's executables are (tests import these from here, not from conftest).
ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
BIN_DIR = os.path.dirname(os.path.abspath(sys.executable))

# The simulator's seeded values have one source, its data module (tests/simulator/creatio_sim/data.py):
# they are imported from there, never repeated here.
SIMULATOR_DIR = os.path.join(ROOT, 'tests', 'simulator')
if SIMULATOR_DIR not in sys.path:
    sys.path.insert(0, SIMULATOR_DIR)
from creatio_simulator import (  # noqa: E402,F401  pylint: disable=import-error,wrong-import-position,unused-import
    AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET, POWERBI_USER_ID, SUPERVISOR_ID, USERS, WEBHOOK_USER_ID,
)

# The seeded administrator's (name, password).
SUPERVISOR = next((user['name'], user['password']) for user in USERS if user['id'] == SUPERVISOR_ID)

PLAY_HEADER = """
- name: {name}
  hosts: localhost
  gather_facts: false
  tasks:
"""


def play(tasks, name='Functional test'):
    """A one-play playbook on localhost; ``tasks`` is YAML text indented by four spaces."""
    return PLAY_HEADER.format(name=name) + tasks


# --- the simulator log ---------------------------------------------------------------------------

def writes(log):
    """Entries of OAuthConfigService calls (kind == 'write')."""
    return [e for e in log if e['kind'] == 'write']


def count(log, endpoint):
    return len([e for e in log if e['endpoint'] == endpoint])


def endpoints(log, kind=None):
    return [e['endpoint'] for e in log if kind is None or e['kind'] == kind]


# --- the simulator state -------------------------------------------------------------------------

def server_clients(sim):
    """{name: [client, ...]} of the simulator (a list, so duplicates show)."""
    found = {}
    for client in sim.state()['clients']:
        found.setdefault(client['name'], []).append(client)
    return found


def server_client(sim, name):
    """The one simulator client named ``name`` (asserts there is exactly one)."""
    found = server_clients(sim).get(name, [])
    assert len(found) == 1, 'expected exactly one client %r on the simulator, got %r' % (name, found)
    return found[0]


def server_urls(client):
    """{url: id} of a simulator client's redirect URIs."""
    return dict((row['redirectUrl'], row['id']) for row in client['redirectUrls'])


# --- the facts cache -----------------------------------------------------------------------------

def site_key(sim):
    return sim.url.rstrip('/')


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def cache_files(cache_path):
    """The files of the facts cache: one per site in ``facts.sites/`` beside ``cache_path``, and
    ``cache_path`` itself while it is the single document of an earlier version (not migrated yet)."""
    folder = os.path.splitext(os.path.abspath(cache_path))[0] + '.sites'
    found = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith('.json')) if os.path.isdir(folder) else []
    return found + ([cache_path] if os.path.exists(cache_path) else [])


def cache_document(cache_path):
    """Every site the facts cache holds, as one document {'schema_version': 1, 'sites': {...}} (a site's own
    file wins over the old single document). Raises ValueError on a file that does not parse."""
    merged = {'schema_version': 1, 'sites': {}}
    for path in cache_files(cache_path):
        document = read_json(path)
        if document.get('schema_version') != 1:
            merged['schema_version'] = document.get('schema_version')
        for site, entry in document.get('sites', {}).items():
            merged['sites'].setdefault(site, entry)
    return merged


def cache_text(cache_path):
    """The text of every file of the facts cache (for secret scans)."""
    return '\n'.join(file_text(path) for path in cache_files(cache_path))


def remove_cache(cache_path):
    """Lose the facts cache (every site's file), as a new controller or an AWX job starts."""
    for path in cache_files(cache_path):
        os.unlink(path)


def cache_clients(cache_path, sim):
    """{name: record} the facts cache holds for the simulator's site ({} when there is none)."""
    return cache_document(cache_path).get('sites', {}).get(site_key(sim), {}).get('clients', {})


def cache_urls(record):
    """{url: id} of a cache record's redirect URIs."""
    return dict((row['url'], row['id']) for row in record.get('redirect_urls') or [])


def sessions_path(cache_path):
    return os.path.join(os.path.dirname(cache_path), 'sessions.json')


def file_text(path):
    if not os.path.exists(path):
        return ''
    with open(path) as handle:
        return handle.read()


# --- acting on the simulator directly (a person using Creatio's page, not the collection) --------

class DirectSession(object):
    """A forms login to the simulator with urllib; calls OAuthConfigService methods."""

    def __init__(self, sim, user=SUPERVISOR):
        self.sim = sim
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        body = json.dumps({'UserName': user[0], 'UserPassword': user[1]}).encode('utf-8')
        request = urllib.request.Request(sim.url + '/ServiceModel/AuthService.svc/Login', data=body, method='POST',
                                         headers={'Content-Type': 'application/json', 'ForceUseSession': 'true'})
        with self.opener.open(request, timeout=10) as response:  # nosec - loopback simulator
            assert json.loads(response.read().decode('utf-8'))['Code'] == 0

    def call(self, method, parameter, inner):
        csrf = next(c.value for c in self.jar if c.name == 'BPMCSRF')
        request = urllib.request.Request(
            self.sim.api_url + '/rest/OAuthConfigService/' + method, method='POST',  # {site}/0 or {site}
            data=json.dumps({parameter: inner}).encode('utf-8'),
            headers={'Content-Type': 'application/json', 'BPMCSRF': csrf})
        with self.opener.open(request, timeout=10) as response:  # nosec - loopback simulator
            result = json.loads(response.read().decode('utf-8'))[method + 'Result']
        assert result['success'] is True, result
        return result


def delete_client_directly(sim, client_id):
    """DeleteClient through the real API, then empty the simulator log (the tests count only the
    collection's own requests)."""
    DirectSession(sim).call('DeleteClient', 'deleteClientRequest', {'clientId': client_id})
    sim.clear_log()


def add_redirect_urls_directly(sim, client_id, urls):
    """AddRedirectUrls through the real API; returns {url: id}; empties the simulator log."""
    result = DirectSession(sim).call('AddRedirectUrls', 'redirectUrlsRequest', {'clientId': client_id, 'redirectUrls': urls})
    sim.clear_log()
    return dict((row['redirectUrl'], row['id']) for row in result['redirectUrls'])


# --- results -------------------------------------------------------------------------------------

def warnings_of(result):
    return result.get('warnings') or []


def msg_of(result):
    return result.get('msg') or ''
