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
    compare(documentation.get('options') or {}, own, module_name)
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)


def test_modules_were_found():
    assert set(MODULES) >= {'creatio_oauth_client', 'creatio_redirect_url', 'creatio_oauth_client_info'}
