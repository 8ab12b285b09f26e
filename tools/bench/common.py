# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths and constants shared by the parts of the bench."""

from __future__ import absolute_import, division, print_function

import os
import sys

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
if os.path.join(ROOT, 'tools') not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
import testbed  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
SIMULATOR_DIR = os.path.join(ROOT, 'tests', 'simulator')
BIN_DIR = os.path.dirname(os.path.abspath(sys.executable))
ROLE_TASKS = os.path.join(ROOT, 'roles', 'integrations', 'tasks', 'main.yml')
DEFAULT_OUTPUT = os.path.join(ROOT, 'build', 'bench', 'results.json')


# The simulator's seeded values come from its data module (tests/simulator/creatio_sim/data.py), never repeated here.
if SIMULATOR_DIR not in sys.path:
    sys.path.insert(0, SIMULATOR_DIR)
from creatio_simulator import (  # noqa: E402,F401  pylint: disable=import-error,wrong-import-position,unused-import
    POWERBI_USER_ID, SUPERVISOR_ID, USERS, WEBHOOK_USER_ID,
)

ADMIN_USER, ADMIN_PASSWORD = next((user['name'], user['password']) for user in USERS if user['id'] == SUPERVISOR_ID)

COLLECTION_SCENARIOS = ('first', 'rerun', 'check', 'rerun-noverify', 'check-new', 'rerun-nosession')
ALL_SCENARIOS = COLLECTION_SCENARIOS + ('baseline', 'floor')
OPT_IN_SCENARIOS = ('check-new', 'rerun-nosession')
# Many sites (issue 15): its own runs over a fleet of simulated sites (see runner.SitesBench).
SITES_SCENARIO = 'sites'
DEFAULT_SCENARIOS = tuple(s for s in ALL_SCENARIOS if s not in OPT_IN_SCENARIOS) + (SITES_SCENARIO,)
SCENARIO_HELP = {
    'first': 'collection, first run (fresh site, empty cache)',
    'rerun': 'collection, re-run with nothing to do',
    'check': 'collection, --check of the converged site',
    'rerun-noverify': 'collection, re-run with verify: false (cache trusted)',
    'check-new': 'collection, --check against a fresh site',
    'rerun-nosession': 'collection, re-run with reuse_session: false (a login per task: one through the role)',
    'baseline': 'ansible.builtin.uri: login + 1 AddClient task per integration',
    'floor': 'ansible.builtin.ping: N tasks',
    'sites': 'many sites: S simulated sites x N integrations, forks F (first, rerun, check, ping, uri baseline)',
}
# "well under the cost of one task": a cache update at 5,000 clients must stay below this share of it
CACHE_SHARE_OF_TASK = 0.25
RERUN_FLOOR_FACTOR = 1.2
