# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret_store option is documented once (plugins/doc_fragments/secret_store.py) and defined once
(_secret_store.SECRET_STORE_OPTIONS): keys, types, defaults, required and choices must agree, and every
environment variable the parser reads must be named in the documentation of its key."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import yaml

from ansible_collections.creatio.oauth.plugins.doc_fragments.secret_store import ModuleDocFragment
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_store as store_mod
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.test_connection_docs import compare


def documented():
    return yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']['secret_store']


def test_the_fragment_matches_the_argspec():
    option = documented()
    spec = store_mod.secret_store_argspec()
    assert option['type'] == spec['type']
    compare(option['suboptions'], spec['options'], 'secret_store fragment')


def test_every_environment_variable_is_documented_on_its_key():
    suboptions = documented()['suboptions']
    for key, variable in store_mod.ENV_FALLBACKS.items():
        assert 'E(%s)' % variable in ' '.join(suboptions[key]['description']), key
    assert 'E(%s)' % store_mod.SKIP_VERIFY_ENV in ' '.join(suboptions['validate_certs']['description'])
