# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A ModuleRun without Ansible: a stand-in AnsibleModule and the parameters a module would pass,
for the unit tests that drive the services, the lookup and the executor against the simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils._auth import login_for
from ansible_collections.creatio.oauth.plugins.module_utils._client import CreatioClient
from ansible_collections.creatio.oauth.plugins.module_utils._connection import Connection
from ansible_collections.creatio.oauth.plugins.module_utils._run import ModuleRun

# conftest.py put tests/simulator on sys.path: the seeded values come from the simulator's data module.
from creatio_simulator import SUPERVISOR_ID, USERS, WEBHOOK_USER_ID  # pylint: disable=import-error

# The seeded administrator's name and password.
ADMIN, ADMIN_PASSWORD = next((user['name'], user['password']) for user in USERS if user['id'] == SUPERVISOR_ID)


class ModuleExit(Exception):
    def __init__(self, kind, result):
        super(ModuleExit, self).__init__(kind)
        self.kind = kind
        self.result = result


class FakeModule(object):
    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = False
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def fail_json(self, **kwargs):
        raise ModuleExit('fail', kwargs)

    def exit_json(self, **kwargs):
        raise ModuleExit('exit', kwargs)


def module_params(sim, tmp_path, **kw):
    params = {'creatio_url': sim.url, 'creatio_username': ADMIN, 'creatio_password': ADMIN_PASSWORD,
              'creatio_client_id': None, 'creatio_client_secret': None, 'creatio_identity_url': None,
              'validate_certs': True, 'ca_path': None, 'request_timeout': 5.0,
              'cache_path': str(tmp_path / 'cache' / 'facts.json'), 'reuse_session': True, 'verify': True}
    params.update(kw)
    return params


def make_run(sim, tmp_path, check_mode=False, **kw):
    return ModuleRun(FakeModule(module_params(sim, tmp_path, **kw), check_mode=check_mode))


def webhook_item(name='Webhooks', **kw):
    """One item of creatio_oauth_clients' ``clients`` with its defaults: a webhooks integration."""
    params = dict((key, value.get('default')) for key, value in batch.item_argspec().items())
    params.update(name=name, preset='webhooks', application_url='https://hooks.example.com', system_user_id=WEBHOOK_USER_ID)
    params.update(kw)
    return params


def forms_login(site, username, password):
    """A forms login to ``site`` as the Connection of that site would make it."""
    return login_for(Connection(site.rstrip('/'), login_kind='forms', username=username, password=password))


def oauth_login(identity_url, client_id, client_secret):
    connection = Connection('https://site.example', login_kind='oauth', identity_url=identity_url.rstrip('/'),
                            client_id=client_id, client_secret=client_secret)
    return login_for(connection)


def client_for(site, login, transport, session_store=None, platform='auto'):
    return CreatioClient(Connection(site.rstrip('/'), platform=platform), login, transport, session_store=session_store)
