# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module process imports before it knows it needs it (the performance page: every task is a new process
that compiles the collection's module_utils from source). A run that sends no request never imports requests; a
run without a secret store never compiles the stores; only the info module compiles the export."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

import ansible_collections

PROBE = '''
import json, sys
import ansible_collections.creatio.oauth.plugins.modules.%s
print(json.dumps(sorted(name for name in sys.modules if name == 'requests' or name.startswith('ansible_collections.creatio'))))
'''


def imported_by(module):
    base = [p for p in ansible_collections.__path__ if os.path.isdir(os.path.join(p, 'creatio', 'oauth'))][0]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(base)] + sys.path))
    out = subprocess.check_output([sys.executable, '-c', PROBE % module], env=env)
    return json.loads(out.decode('utf-8').strip().splitlines()[-1])


@pytest.mark.parametrize('module', ['creatio_oauth_clients', 'creatio_oauth_client'])
def test_the_modules_import_neither_requests_nor_the_stores_nor_the_export(module):
    loaded = imported_by(module)
    stems = set(name.rsplit('.', 1)[-1] for name in loaded)
    assert 'requests' not in loaded, loaded
    assert not stems & set(['_secret_store_vault', '_secret_store_files', '_transport', '_client', '_export']), loaded
    assert '_integrations' in stems and '_secret_store' in stems, loaded  # the probe saw the module's own imports
