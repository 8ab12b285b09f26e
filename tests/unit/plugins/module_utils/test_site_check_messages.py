# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the site check says of an OData read: it asks for one row to see whether the read is let
through, and says so, never a count of the site's rows it did not read."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _site_check as site_check
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run


def test_a_readable_odata_entity_is_reported_without_a_row_count(sim, tmp_path):
    for number in range(5):
        sim.add_client('By hand %d' % number)
    report = site_check.check_site(make_run(sim, tmp_path))
    details = [c['detail'] for c in report['checks'] if c['status'] == 'ok' and 'readable' in c['detail']]
    assert details, report['checks']
    for detail in details:
        assert 'row(s)' not in detail and 'first page' not in detail, detail
        assert 'one row asked for' in detail, detail
