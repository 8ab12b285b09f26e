# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.creatio.oauth`` importable for plain pytest.

The repository root is the collection root, so plain ``pytest tests/unit`` has no
``ansible_collections`` parent directory to import from. When the checkout is not already inside
an ``ansible_collections/<namespace>/<name>`` tree (ansible-test's copy is), a temporary tree with a
symlink to the checkout is made and put first on ``sys.path``. ``ansible_collections`` is a
namespace package, so collections installed in site-packages still import alongside.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import atexit
import os
import shutil
import sys
import tempfile

import yaml

_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..'))


def _ensure_collection_importable():
    parts = _ROOT.split(os.sep)
    if len(parts) > 3 and parts[-3] == 'ansible_collections':
        # already in a tree (ansible-test units, or a checkout placed in one)
        base = os.sep.join(parts[:-3])
    else:
        # repo root == collection root
        with open(os.path.join(_ROOT, 'galaxy.yml')) as handle:
            meta = yaml.safe_load(handle)
        base = tempfile.mkdtemp(prefix='ansible-collections-')
        atexit.register(shutil.rmtree, base, True)
        ns_dir = os.path.join(base, 'ansible_collections', meta['namespace'])
        os.makedirs(ns_dir)
        os.symlink(_ROOT, os.path.join(ns_dir, meta['name']))
    if base not in sys.path:
        sys.path.insert(0, base)


_ensure_collection_importable()
