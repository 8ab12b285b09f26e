# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation and the argument specs must not drift apart.

The connection options are documented once (plugins/doc_fragments/connection.py) and defined once
(module_utils/connection.py); each module documents its own options and defines them in
argument_spec(). Keys, types, defaults, required, choices and elements are compared.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib
import os

import pytest
import yaml

from ansible_collections.creatio.oauth.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.creatio.oauth.plugins.doc_fragments.redirect_urls import ModuleDocFragment as RedirectUrlsFragment
from ansible_collections.creatio.oauth.plugins.module_utils import _connection as connection

COLLECTION_ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..'))
MODULES_DIR = os.path.join(COLLECTION_ROOT, 'plugins', 'modules')
MODULES = sorted(f[:-3] for f in os.listdir(MODULES_DIR) if f.endswith('.py') and not f.startswith('_'))
COMPARED = ('type', 'default', 'required', 'choices', 'elements')
# Modules that run on the controller only and talk to no site: no connection options.
NOT_CONNECTED = ('creatio_drift_report',)


def doc_options(text):
    return yaml.safe_load(text)['options']


def normalised(entry):
    """The compared attributes of a doc entry or an argspec entry, with Ansible's defaults made explicit."""
    result = {
        'type': entry.get('type', 'str'),
        'default': entry.get('default'),
        'required': bool(entry.get('required', False)),
        'choices': list(entry['choices']) if entry.get('choices') is not None else None,
        'elements': entry.get('elements'),
    }
    if result['type'] == 'float' and result['default'] is not None:
        result['default'] = float(result['default'])
    return result


def compare(docs, spec, where):
    assert sorted(docs) == sorted(spec), '%s: documented %s, defined %s' % (where, sorted(docs), sorted(spec))
    for name in spec:
        assert normalised(docs[name]) == normalised(spec[name]), '%s: option %s differs' % (where, name)
        assert docs[name].get('description'), '%s: option %s has no description' % (where, name)


def test_connection_fragment_matches_the_argspec():
    compare(doc_options(ModuleDocFragment.DOCUMENTATION), connection.CONNECTION_ARGSPEC, 'connection fragment')


def test_verify_fragment_matches_the_argspec():
    compare(doc_options(ModuleDocFragment.VERIFY), connection.VERIFY_ARGSPEC, 'verify fragment')


def test_no_log_options_are_the_password_and_the_secret_and_documented_as_such():
    docs = doc_options(ModuleDocFragment.DOCUMENTATION)
    no_log = sorted(k for k, v in connection.CONNECTION_ARGSPEC.items() if v.get('no_log'))
    assert no_log == ['creatio_client_secret', 'creatio_password']
    for name in no_log:
        text = ' '.join(docs[name]['description'])
        assert 'Never logged' in text, name
    for name, spec in connection.CONNECTION_ARGSPEC.items():
        if any(word in name for word in ('password', 'secret', 'token')):
            assert spec.get('no_log') is True, name


def test_every_connection_option_documents_its_environment_variable():
    docs = doc_options(ModuleDocFragment.DOCUMENTATION)
    for name, spec in connection.CONNECTION_ARGSPEC.items():
        fallback = spec.get('fallback')
        assert fallback, '%s has no environment fallback' % name
        variable = fallback[1][0]
        assert 'E(%s)' % variable in ' '.join(docs[name]['description']), name


def test_fragment_yaml_is_plain():
    # the doc text is YAML the docs tooling can read, with the requirements of the collection
    data = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)
    assert data['requirements'] == ['requests']


@pytest.mark.parametrize('module_name', MODULES)
def test_module_documents_its_own_options(module_name):
    module = importlib.import_module('ansible_collections.creatio.oauth.plugins.modules.%s' % module_name)
    documentation = yaml.safe_load(module.DOCUMENTATION)
    assert documentation['module'] == module_name
    spec = module.argument_spec()
    fragments = documentation.get('extends_documentation_fragment') or []
    if module_name in NOT_CONNECTED:
        assert not [f for f in fragments if f.startswith('creatio.oauth.connection')]
        assert not set(spec) & set(connection.CONNECTION_ARGSPEC), module_name
        compare(documentation.get('options') or {}, spec, module_name)
        yaml.safe_load(module.EXAMPLES)
        yaml.safe_load(module.RETURN)
        return
    assert 'creatio.oauth.connection' in fragments
    for name, entry in connection.CONNECTION_ARGSPEC.items():
        assert spec[name] == entry, '%s: connection option %s is redefined' % (module_name, name)
    own = dict((k, v) for k, v in spec.items() if k not in connection.CONNECTION_ARGSPEC)
    if 'verify' in spec:
        assert 'creatio.oauth.connection.verify' in fragments, '%s: verify is not documented' % module_name
        assert spec['verify'] == connection.VERIFY_ARGSPEC['verify']
        own.pop('verify')
    else:
        assert 'creatio.oauth.connection.verify' not in fragments, '%s: documents verify it does not have' % module_name
    if 'secret_store' in spec:
        # Documented by its fragment (test_secret_store_docs compares the two).
        assert 'creatio.oauth.secret_store' in fragments, '%s: secret_store is not documented' % module_name
        own.pop('secret_store')
    if 'creatio.oauth.redirect_urls' in fragments:
        shared = doc_options(RedirectUrlsFragment.DOCUMENTATION)
        compare(shared, dict((k, own.pop(k)) for k in list(shared) if k in own), '%s (redirect_urls fragment)' % module_name)
    compare(documentation.get('options') or {}, own, module_name)
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)


def test_the_redirect_urls_fragment_serves_both_modules_that_add_redirect_uris():
    users = []
    for module_name in MODULES:
        module = importlib.import_module('ansible_collections.creatio.oauth.plugins.modules.%s' % module_name)
        if 'add_unconfirmed_redirect_urls' in module.argument_spec():
            assert 'creatio.oauth.redirect_urls' in (yaml.safe_load(module.DOCUMENTATION).get('extends_documentation_fragment') or [])
            users.append(module_name)
    assert users == ['creatio_oauth_client', 'creatio_redirect_url']


def test_modules_were_found():
    assert set(MODULES) >= {'creatio_oauth_client', 'creatio_redirect_url', 'creatio_oauth_client_info'}


# --- the role and the playbooks pass the same connection options --------------------------------------

ROLE_SPEC = os.path.join(COLLECTION_ROOT, 'roles', 'integrations', 'meta', 'argument_specs.yml')
ROLE_TASKS = os.path.join(COLLECTION_ROOT, 'roles', 'integrations', 'tasks', 'main.yml')
PLAYBOOKS_DIR = os.path.join(COLLECTION_ROOT, 'playbooks')
CONNECTION_LOOKUP = "{{ lookup('creatio.oauth.connection_options') }}"


def role_connection_options():
    with open(ROLE_SPEC) as handle:
        options = yaml.safe_load(handle)['argument_specs']['main']['options']
    return dict((k, v) for k, v in options.items() if not k.startswith('creatio_integrations'))


def test_the_role_takes_every_connection_option_with_the_modules_types_and_no_defaults():
    role = role_connection_options()
    assert sorted(role) == sorted(connection.CONNECTION_ARGSPEC)
    assert sorted(connection.CONNECTION_OPTIONS) == sorted(connection.CONNECTION_ARGSPEC)
    docs = doc_options(ModuleDocFragment.DOCUMENTATION)
    for name, spec in connection.CONNECTION_ARGSPEC.items():
        entry = role[name]
        assert entry.get('type', 'str') == spec['type'] == docs[name]['type'], name
        assert entry.get('choices') == spec.get('choices'), name
        assert bool(entry.get('no_log')) == bool(spec.get('no_log')), name
        # unset, the module's default (or the play's module_defaults, or the environment) applies
        assert 'default' not in entry and not entry.get('required'), name
        variable = spec['fallback'][1][0]
        assert 'E(%s)' % variable in ' '.join(entry['description']), name


class BuiltinLookups(object):
    """Plain pytest installs no collection finder, so ansible-core's plugin loader resolves ansible.builtin.* only
    by the short name (ansible-test units and ansible-playbook resolve both)."""

    def __init__(self, loader):
        self.loader = loader

    def get(self, name, *args, **kwargs):
        assert name.startswith('ansible.builtin.'), name
        return self.loader.get(name, *args, **kwargs) or self.loader.get(name.split('.')[-1], *args, **kwargs)


def connection_lookup(**variables):
    # Ansible's controller code: ansible-test units runs module_utils tests without it (make test's pytest runs them)
    DataLoader = pytest.importorskip('ansible.parsing.dataloader').DataLoader
    from ansible.plugins.loader import lookup_loader
    from ansible.template import Templar
    from ansible_collections.creatio.oauth.plugins.lookup import connection_options

    loader = DataLoader()
    lookup = connection_options.LookupModule(loader=loader, templar=Templar(loader=loader, variables=variables))
    original = connection_options.lookup_loader
    connection_options.lookup_loader = BuiltinLookups(lookup_loader)
    try:
        return lookup.run([], variables=variables)[0]
    finally:
        connection_options.lookup_loader = original


def test_the_lookup_passes_every_connection_option_that_is_set(tmp_path, monkeypatch):
    values = {'creatio_url': 'https://site.example', 'creatio_username': 'Supervisor', 'creatio_password': 'Pa55-word',
              'creatio_client_id': 'cid', 'creatio_client_secret': 'Secret-123', 'creatio_identity_url': 'https://is.example',
              'creatio_platform': 'netcore', 'validate_certs': False, 'ca_path': 'ca.pem', 'request_timeout': 7.5,
              'cache_path': '~/cache/facts.json', 'reuse_session': False}
    assert sorted(values) == sorted(connection.CONNECTION_ARGSPEC)
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    passed = connection_lookup(unrelated='x', **values)
    assert sorted(passed) == sorted(connection.CONNECTION_ARGSPEC)
    assert passed['ca_path'] == str(tmp_path / 'ca.pem')  # a controller path, from where ansible-playbook started
    assert passed['cache_path'] == str(tmp_path / 'home' / 'cache' / 'facts.json')
    assert passed['reuse_session'] is False and passed['validate_certs'] is False and passed['request_timeout'] == 7.5
    assert passed['creatio_platform'] == 'netcore'


def test_the_lookup_leaves_out_what_is_not_set():
    # left to the play's module_defaults for the group, or to the CREATIO_* environment
    assert connection_lookup(creatio_url='https://site.example', creatio_username='', creatio_password=None,
                             cache_path='') == {'creatio_url': 'https://site.example'}
    assert connection_lookup() == {}


def module_defaults_of(tasks):
    found = []
    for task in tasks or ():
        if isinstance(task, dict):
            found += list((task.get('module_defaults') or {}).items())
            for key in ('block', 'rescue', 'always', 'tasks'):
                found += module_defaults_of(task.get(key))
    return found


def test_the_role_and_the_playbooks_pass_the_connection_options_with_the_lookup():
    with open(ROLE_TASKS) as handle:
        role_defaults = module_defaults_of(yaml.safe_load(handle))
    assert role_defaults == [('creatio.oauth.creatio_oauth_clients', CONNECTION_LOOKUP)]
    playbook_defaults = []
    for name in sorted(os.listdir(PLAYBOOKS_DIR)):
        with open(os.path.join(PLAYBOOKS_DIR, name)) as handle:
            for play in yaml.safe_load(handle):
                playbook_defaults += module_defaults_of([play])
    assert playbook_defaults == [('creatio.oauth.creatio_oauth_client_info', CONNECTION_LOOKUP)]  # export.yml
