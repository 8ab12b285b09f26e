# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/dev/design.md stays true to the code: its layer table names every module_utils file, and no
file imports one of a higher layer (the table lists the layers from the top)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..'))
MODULE_UTILS = os.path.join(ROOT, 'plugins', 'module_utils')
DESIGN = os.path.join(ROOT, 'docs', 'dev', 'design.md')
ROW = re.compile(r'^\| ([a-z][a-z ]*) \| `(_[a-z_]+)\.py` \|', re.M)
IMPORT = re.compile(r'module_utils(?:\.|\s+import\s+)(_[a-z_]+)')


def layer_table():
    """{file stem: rank}, the top layer first (rank 0)."""
    with open(DESIGN) as handle:
        text = handle.read()
    section = text.split('### module_utils, by layer', 1)[1].split('\n### ', 1)[0]
    ranks, layers = {}, []
    for layer, stem in ROW.findall(section):
        if layer not in layers:
            layers.append(layer)
        assert stem not in ranks, '%s is listed twice in the layer table' % stem
        ranks[stem] = layers.index(layer)
    return ranks


def imports_of(stem):
    with open(os.path.join(MODULE_UTILS, stem + '.py')) as handle:
        return set(IMPORT.findall(handle.read())) - set([stem])


def test_the_layer_table_names_every_module_utils_file():
    ranks = layer_table()
    files = set(f[:-3] for f in os.listdir(MODULE_UTILS) if f.startswith('_') and f.endswith('.py') and f != '__init__.py')
    assert files - set(ranks) == set(), 'add these to the layer table of docs/dev/design.md'
    assert set(ranks) - files == set(), 'the layer table names files that do not exist'


def test_no_file_imports_a_file_of_a_higher_layer():
    ranks = layer_table()
    upward = sorted('%s imports %s' % (stem, other) for stem in ranks for other in imports_of(stem)
                    if other in ranks and ranks[other] < ranks[stem])
    assert upward == []


def test_the_check_sees_an_upward_import():
    # The table is read the right way round: a service imported by the base layer would be caught.
    ranks = layer_table()
    assert ranks['_integrations'] < ranks['_run'] < ranks['_executor'] < ranks['_lookup'] < ranks['_client'] < ranks['_errors']
