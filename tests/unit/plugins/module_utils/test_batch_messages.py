# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a batch and its failures say (issue 21, item 13): the counts of the message agree with the
summary, a stop reason reads as a clause after "because", a hint that every failed item shares is
given once per run, and a user's redirect_url_id that does not exist is not blamed on the cache."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils import _integrations as integration
from ansible_collections.creatio.oauth.plugins.module_utils import _redirect_urls as redirect_urls
from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Declaration
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, RecordNotFoundError

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run, webhook_item

NAMES = ['Hook %d' % i for i in range(4)]


def apply_batch(sim, tmp_path, **kw):
    items = [webhook_item(name, application_url='https://hook%d.example.com' % i) for i, name in enumerate(NAMES)]
    run = make_run(sim, tmp_path, clients=items, secrets_dir=None, verify_tokens=False, **kw)
    return run, batch.apply_many(run)


def failed_in_summary(outcome):
    return int(re.search(r', (\d+) failed$', outcome['summary'][0]).group(1))


def test_a_stop_after_one_failure_counts_every_failed_item_as_the_summary_does(sim, tmp_path):
    sim.configure(oauth_feature=False)  # site-wide: the first AddClient's refusal would fail every other item
    _run, outcome = apply_batch(sim, tmp_path)
    assert failed_in_summary(outcome) == 4
    assert outcome['msg'].startswith('4 of 4 integration(s) failed: Hook 0: AddClient was refused by Creatio'), outcome['msg']
    assert outcome['msg'].endswith('; 3 of them not attempted, because the failure of Hook 0 would fail them too'), outcome['msg']
    assert outcome['clients'][1]['msg'] == 'not attempted: the failure of Hook 0 would fail them too'


def test_a_stop_before_any_item_reads_as_a_clause_after_because(sim, tmp_path):
    """An OAuth login the identity service refuses: "The identity service refused ..." is the reason."""
    _run, outcome = apply_batch(sim, tmp_path, creatio_username=None, creatio_password=None,
                                creatio_client_id='not-a-client', creatio_client_secret='wrong',
                                creatio_identity_url=sim.identity_url)
    assert failed_in_summary(outcome) == 4
    assert outcome['msg'].startswith('4 of 4 integration(s) failed; all of them not attempted, because the identity service '
                                     'refused client not-a-client'), outcome['msg']
    assert 'because of' not in outcome['msg'] and 'wrong' not in outcome['msg']


def test_a_hint_every_failed_item_shares_is_given_once_per_run(sim, tmp_path):
    sim.configure(odata_status=403)  # nothing can tell whether they exist: every item fails with the same hint
    run, outcome = apply_batch(sim, tmp_path)
    hint = outcome['clients'][0]['error']['hint']
    assert hint and all(c['error']['hint'] == hint for c in outcome['clients'])  # the structured field stays on each
    texts = [outcome['msg']] + [c['msg'] for c in outcome['clients']] + run.warnings
    assert sum(text.count(hint.rstrip('.')) for text in texts) == 2, texts  # the batch's message and the first item's
    assert outcome['msg'].count(hint.rstrip('.')) == 1 and outcome['msg'].startswith('4 of 4 integration(s) failed: Hook 0: ')
    assert all(name in outcome['msg'] for name in NAMES)
    assert [c['msg'].endswith('hint: the same as for Hook 0.') for c in outcome['clients']] == [False, True, True, True]


def test_an_older_site_needing_a_system_user_says_before_which_version():
    desired = Declaration(name='Web app', grant_type='authorization_code', application_url='https://web.example.com',
                          redirect_urls=['https://web.example.com/cb'], system_user_id=None)
    with pytest.raises(ConfigurationError) as caught:
        rules.check_create(desired, grant_types=False)
    assert 'before Creatio 8.3 every integration acts as one' in caught.value.message, caught.value.message


def test_a_redirect_url_id_that_does_not_exist_is_named_not_the_cache(sim, tmp_path):
    name = 'Web app'
    integration.apply(make_run(sim, tmp_path), integration.declare(dict(
        name=name, state='present', grant_type='authorization_code', application_url='https://web.example.com',
        system_user_id=None, redirect_urls=['https://web.example.com/cb'], purge_redirect_urls=True, active=None,
        client_id=None, client_secret_file=None)))
    missing = '9b2f4c3e-1a2b-4c5d-8e9f-0a1b2c3d4e5f'
    run = make_run(sim, tmp_path, client_name=name, client_id=None, redirect_urls=None, state='present', purge=False,
                   redirect_url_id=missing, redirect_url='https://web.example.com/other', add_unconfirmed_redirect_urls=False)
    with pytest.raises(RecordNotFoundError) as caught:
        redirect_urls.apply(run)
    text = caught.value.full_message()
    assert caught.value.call == 'UpdateRedirectUrl' and 'redirect_url_id %s is not the id of a redirect URI on' % missing in text
    assert 'stale' not in text, text
    assert [r['redirectUrl'] for c in sim.state()['clients'] if c['name'] == name for r in c['redirectUrls']] == [
        'https://web.example.com/cb']
