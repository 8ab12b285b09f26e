# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parts of a run work from what they are given, not from the run: SiteFacts and ServerReader take a
callable giving the client (built on first need), the facts cache, the site URL, check mode, warn and scrub;
AuthorizeProbe takes the client callable, the Connection and a transport maker."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils._authorize_probe import AuthorizeProbe
from ansible_collections.creatio.oauth.plugins.module_utils._cache import FactsCache
from ansible_collections.creatio.oauth.plugins.module_utils._lookup import ServerReader
from ansible_collections.creatio.oauth.plugins.module_utils._site import SiteFacts

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run


class Parts(object):
    """A client callable that counts how often a client was asked for, and the warnings given."""

    def __init__(self, run):
        self.run = run
        self.asked = 0
        self.warnings = []

    def client(self):
        self.asked += 1
        return self.run.client

    def facts(self, cache, check_mode):
        probe = AuthorizeProbe(self.client, self.run.connection, self.run.transport)
        return SiteFacts(self.client, cache, self.run.site, check_mode, self.warnings.append, lambda exc: exc, probe)


def test_site_facts_ask_for_the_client_only_when_a_question_needs_the_site_and_keep_nothing_in_check_mode(sim, tmp_path):
    parts = Parts(make_run(sim, tmp_path))
    cache = FactsCache(str(tmp_path / 'own' / 'facts.json'))
    reporting = parts.facts(cache, check_mode=True)
    assert parts.asked == 0 and sim.log() == []
    assert reporting.has_redirect_methods() is True  # the simulator is 8.3 with a readable redirect-URI entity
    assert parts.asked >= 1 and reporting.redirect_entity() is not None
    assert cache.site_fact(parts.run.site, 'redirect_entity') is None  # check mode keeps no fact
    changing = parts.facts(cache, check_mode=False)
    assert changing.redirect_entity().name == reporting.redirect_entity().name
    assert cache.site_fact(parts.run.site, 'redirect_entity')['name'] == reporting.redirect_entity().name
    assert changing.authorize_probe().connection is parts.run.connection


def test_server_reader_warns_through_what_it_is_given_and_names_the_cache_path(sim, tmp_path):
    parts = Parts(make_run(sim, tmp_path))
    reader = ServerReader(parts.client, parts.facts(None, check_mode=True), parts.warnings.append, '/somewhere/facts.json')
    assert parts.asked == 0
    sim.configure(odata_status=403)
    assert reader.records(names=['x']) is None and reader.readable is False
    assert len(parts.warnings) == 1 and 'HTTP 403' in parts.warnings[0] and '/somewhere/facts.json' in parts.warnings[0]
    assert parts.run.warnings == []  # nothing reached back into the run
