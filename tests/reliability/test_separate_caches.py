# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Separate caches racing (issue 14, "What to build" item 2): two and three ansible-playbook runs,
each with a facts cache (and so a session file) of its own, as two controllers or two concurrent AWX
jobs have, released together by a barrier against one site whose AddClient answers after a seeded
delay, so that every run looks the integrations up before any of them is created, and every run
creates them.

Each run declares two integrations: a client credentials one and an authorization code one with two
redirect URIs (each with a ``client_secret_file`` of that run). After every trial:

- exactly one integration per name on the site, with exactly the declared redirect URI rows;
- every run's play succeeded; every run that lost the race reports the adoption (the warning
  "created at the same time by another run"), deleted its own creation and returned no secret;
- exactly one run per name returned a client secret and wrote a secret file: the survivor's, with
  the survivor's client id; no secret of a deleted client is anywhere (outputs, logs, results,
  caches, session files, secret files);
- every run's facts cache agrees with the site.

Seeded (``CREATIO_RELIABILITY_SEED``): the per-request AddClient delays and the runs' start
offsets; a failing trial names its seed and timings.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import random

import pytest

import reliability_lib as lib  # pylint: disable=import-error

SEED = int(os.environ.get('CREATIO_RELIABILITY_SEED', '20240614'))
TRIALS = 5 if lib.FULL else 2
CC = 'Race CC'
CODE = "Race code's app"
CODE_URLS = ['https://race.example.com/callback', 'https://race.example.com/silent']
DECLARED = {
    CC: {'grant_type': 'client_credentials', 'application_url': 'https://race-cc.example.com',
         'system_user_id': lib.POWERBI_USER_ID, 'active': True, 'redirect_urls': []},
    CODE: {'grant_type': 'authorization_code', 'application_url': 'https://race.example.com', 'system_user_id': None,
           'active': True, 'redirect_urls': CODE_URLS},
}
LOST = 'created at the same time by another run'
# An AddClient is answered after this many seconds (seeded per request): longer than the spread of
# the runs' module start-ups after the barrier, so that every lookup comes before every creation.
DELAY = (1.2, 2.0)

PLAYBOOK = """
- name: A run with a facts cache of its own
  hosts: localhost
  gather_facts: false
  tasks:
""" + lib.BARRIER_TASK + """
    - name: Client credentials integration
      creatio.oauth.creatio_oauth_client:
        name: "%(cc)s"
        grant_type: client_credentials
        application_url: https://race-cc.example.com
        system_user_id: %(user)s
        client_secret_file: "{{ secrets_dir }}/cc.json"

    - name: Authorization code integration
      creatio.oauth.creatio_oauth_client:
        name: "%(code)s"
        grant_type: authorization_code
        application_url: https://race.example.com
        redirect_urls: %(urls)s
        client_secret_file: "{{ secrets_dir }}/code.json"
""" % {'cc': CC, 'code': CODE, 'user': lib.POWERBI_USER_ID, 'urls': json.dumps(CODE_URLS)}
TASKS = {CC: 'Client credentials integration', CODE: 'Authorization code integration'}
SECRET_FILES = {CC: 'cc.json', CODE: 'code.json'}


def _timings(rng, runs):
    return {'delays': [round(rng.uniform(*DELAY), 3) for _request in range(2 * runs)],
            'offsets': [round(rng.uniform(0.0, 0.15), 3) for _run in range(runs)]}


def _trial_dir(rel, runs, trial):
    path = rel.tmp_path / ('race-%d-runs-%02d' % (runs, trial))
    (path / 'barrier').mkdir(parents=True)
    return path


def _task_result(result, task):
    found = result.task(task)
    return found[0]['result'] if len(found) == 1 else None


def _read_json(path):
    with open(path) as handle:
        return json.load(handle)


def _text(path):
    with open(path) as handle:
        return handle.read()


def check_trial(rel, runs, results, caches, secret_dirs, witness, context, unknown_uris_ok=False):
    """Every promise of a race trial; returns (AddClients sent, runs that lost) for the table.
    ``unknown_uris_ok``: a cache may keep the redirect URIs of the code integration unknown (a run
    that adopted the survivor while the winner was still adding them claims nothing about them)."""
    sim = rel.sim
    for index, result in enumerate(results):
        assert result.rc == 0, '%srun %d failed: %s\n%s' % (context, index, lib.failure_of(result), result)
    server = lib.sim_clients(sim)
    secrets = witness.all()
    deleted = witness.deleted()
    log = sim.log()
    adds = len([e for e in log if e['endpoint'] == 'AddClient'])
    losers = 0
    for name, task in TASKS.items():
        assert len(server.get(name, [])) == 1, '%s%d integrations named %r' % (context, len(server.get(name, [])), name)
        survivor = server[name][0]
        creators = []
        for index, result in enumerate(results):
            data = _task_result(result, task)
            assert data is not None, '%srun %d has no result for %r' % (context, index, task)
            calls = [op['call'] for op in data.get('operations') or []]
            warnings = [w for w in data.get('warnings') or [] if LOST in w]
            path = os.path.join(secret_dirs[index], SECRET_FILES[name])
            assert data['client']['client_id'] == survivor['clientId'], '%srun %d reports %s, the site has %s' % (
                context, index, data['client']['client_id'], survivor['clientId'])
            if data.get('client_secret'):
                # created, and its creation is the one that stays: the survivor's secret, in its file
                creators.append(index)
                assert calls[0] == 'AddClient' and 'DeleteClient' not in calls and not warnings, (context, index, data)
                assert data['client_secret'] == secrets[survivor['clientId']], '%srun %d returned another secret' % (context, index)
                document = _read_json(path)
                assert (document['client_id'], document['client_secret']) == (survivor['clientId'], data['client_secret']), \
                    '%srun %d secret file %r' % (context, index, document['client_id'])
            elif 'AddClient' in calls:
                # created, lost: deleted its own creation and adopted the survivor, said so, no secret anywhere
                losers += 1
                assert calls.count('DeleteClient') == 1 and len(warnings) == 1, (context, index, calls, data.get('warnings'))
                assert survivor['clientId'] in warnings[0], (context, warnings)
                assert not os.path.exists(path), '%srun %d wrote a secret file for a deleted client' % (context, index)
            else:
                # looked up after the survivor was created: adopted through OData, nothing written
                assert not data['changed'] or calls == ['AddRedirectUrls'], (context, index, data)
                assert not os.path.exists(path), '%srun %d wrote a secret file without creating' % (context, index)
        assert len(creators) == 1, '%s%d runs returned a client secret for %r: %s' % (context, len(creators), name, creators)
    declared = dict((name, dict(want)) for name, want in DECLARED.items())
    urls = [row['redirectUrl'] for row in server[CODE][0]['redirectUrls']]
    assert sorted(urls) == sorted(CODE_URLS), '%sthe site has the redirect URI rows %s' % (context, urls)
    for index, cache in enumerate(caches):
        want = declared
        if unknown_uris_ok and (lib.cache_clients(cache, sim).get(CODE) or {}).get('redirect_urls', []) is None:
            want = dict(declared, **{CODE: dict(declared[CODE], redirect_urls=None)})
        rel.converged(want, cache_path=cache, context='%srun %d cache: ' % (context, index))
    # no secret of a deleted client anywhere: outputs, logs, results, caches, session files, secret files
    rel.extra_secrets.update(('deleted client secret %s...' % secret[:4], secret) for secret in deleted.values())
    for index, result in enumerate(results):
        rel.scan(result, cache_path=caches[index])
    texts = dict(('secret files of run %d' % index, '\n'.join(
        _text(os.path.join(folder, f)) for f in sorted(os.listdir(folder)))) for index, folder in enumerate(secret_dirs)
        if os.path.isdir(folder))
    findings = lib.scan_for_secrets(texts, dict(('deleted %s' % cid, secret) for cid, secret in deleted.items()))
    assert not findings, '%s%s' % (context, findings)
    assert len(deleted) == losers, '%s%d deleted clients, %d runs lost' % (context, len(deleted), losers)
    return adds, losers


@pytest.mark.parametrize('runs', [2, 3])
def test_separate_caches_racing_end_with_one_integration_per_name(rel, runs):
    sim = rel.sim
    rng = random.Random(SEED + runs)
    witness = lib.SecretWitness(sim)
    totals = {'adds': 0, 'losers': 0, 'trials': 0, 'raced': 0}
    label = 'separate caches racing: %d runs released together, AddClient answered after %.1f-%.1f s' % (runs, DELAY[0], DELAY[1])
    where = '%d facts caches (and session files) on one site; 2 names each, one with 2 redirect URIs' % runs
    with rel.row('concurrency', label, where, injected=0, order=10 + runs) as row:
        for trial in range(TRIALS):
            sim.reset()
            sim.clear_log()
            timings = _timings(rng, runs)
            context = 'seed %d, %d runs, trial %d/%d, timings %s: ' % (SEED + runs, runs, trial + 1, TRIALS, timings)
            sim.configure(faults=[{'endpoint': 'AddClient', 'status': None, 'delay': delay, 'count': 1}
                                  for delay in timings['delays']])
            witness.forget()
            witness.arm(2 * runs)
            folder = _trial_dir(rel, runs, trial)
            caches = [str(folder / ('run-%d' % i) / 'cache' / 'facts.json') for i in range(runs)]
            secret_dirs = [str(folder / ('run-%d' % i) / 'secrets') for i in range(runs)]
            for path in secret_dirs:
                os.makedirs(path, mode=0o700)
            spawned = [rel.spawn(PLAYBOOK, 'race-%d-%02d-run-%d' % (runs, trial, i),
                                 extra_vars={'barrier_dir': str(folder / 'barrier'), 'barrier_me': i,
                                             'barrier_offset': timings['offsets'][i], 'secrets_dir': secret_dirs[i]},
                                 env={'CREATIO_CACHE_PATH': caches[i]})
                       for i in range(runs)]
            lib.release(folder / 'barrier', runs, spawned)
            results = [s.wait(timeout=300) for s in spawned]
            sim.wait_settled()
            adds, losers = check_trial(rel, runs, results, caches, secret_dirs, witness, context)
            for name in TASKS:
                created = [r for r in results if 'AddClient' in [op['call'] for op in (_task_result(r, TASKS[name]) or {}).get('operations') or []]]
                totals['raced'] += 1 if len(created) >= 2 else 0
            totals['adds'] += adds
            totals['losers'] += losers
            totals['trials'] += 1
            row['injected'] = totals['trials']
            row['outcome'] = '%d trials, every play ok; %d of %d names created by several runs at once: %d AddClient, %d ' \
                             'losing creations deleted and adopted' % (totals['trials'], totals['raced'], 2 * totals['trials'],
                                                                       totals['adds'], totals['losers'])
        # the runs did race (a machine too busy to start them together would make a trial test nothing):
        # most names were created by several runs
        assert totals['raced'] * 2 > 2 * TRIALS, 'seed %d: only %d of %d names were created by several runs at once' % (
            SEED + runs, totals['raced'], 2 * TRIALS)
        row['check'] = 'ok: one integration per name, declared redirect URI rows; one secret per name (the survivor\'s); ' \
                       'every cache == simulator; no secret of a deleted client anywhere'


def _spawn_run(rel, folder, index, barrier='barrier', login='forms'):
    cache = str(folder / ('run-%d' % index) / 'cache' / 'facts.json')
    secrets_dir = str(folder / ('run-%d' % index) / 'secrets')
    os.makedirs(secrets_dir, mode=0o700)
    (folder / barrier).mkdir(exist_ok=True)
    spawned = rel.spawn(PLAYBOOK, '%s-run-%d' % (folder.name, index), login=login,
                        extra_vars={'barrier_dir': str(folder / barrier), 'barrier_me': index, 'secrets_dir': secrets_dir},
                        env={'CREATIO_CACHE_PATH': cache})
    return spawned, cache, secrets_dir


def _first(log, test):
    return next((e['seq'] for e in log if test(e)), None)


def test_a_loser_adopting_before_the_winner_added_its_redirect_uris_adds_no_second_row(rel):
    """The winner's AddRedirectUrls is slow (1.5 s): the loser has deleted its own creation and
    adopted the survivor before the survivor has its redirect URIs. Neither run may leave a second
    row per URI; the loser's cache keeps the URIs unknown (it cannot know when the winner is done)
    or right, never wrong; the next run of each cache reads the rows, writes nothing, and its cache
    then agrees with the site."""
    sim = rel.sim
    witness = lib.SecretWitness(sim, deletes=4)
    folder = _trial_dir(rel, 2, 99)
    sim.configure(faults=[{'endpoint': 'AddClient', 'status': None, 'delay': 1.2, 'count': 4},
                          {'endpoint': 'AddRedirectUrls', 'status': None, 'delay': 1.5, 'count': 1}])
    runs = [_spawn_run(rel, folder, i) for i in range(2)]
    lib.release(folder / 'barrier', 2, [r[0] for r in runs])
    results = [r[0].wait(timeout=300) for r in runs]
    sim.wait_settled()
    log = sim.log()
    # the moment this test is about: the loser read the rows while the winner's AddRedirectUrls was pending
    # (a slow request is logged once the server is done with it)
    read, added = _first(log, lambda e: e['endpoint'] == 'RedirectUrlEntity'), _first(log, lambda e: e['endpoint'] == 'AddRedirectUrls')
    if read is None or added is None or read > added:
        pytest.skip('timing: no run read the redirect URI rows while the first AddRedirectUrls was pending')
    context = 'slow AddRedirectUrls of the winner: '
    check_trial(rel, 2, results, [r[1] for r in runs], [r[2] for r in runs], witness, context, unknown_uris_ok=True)
    (folder / 'rerun').mkdir()
    (folder / 'rerun' / 'go').touch()
    for index, (_spawned, cache, secrets_dir) in enumerate(runs):
        mark = len(sim.log())
        again = rel.run(PLAYBOOK, extra_vars={'barrier_dir': str(folder / 'rerun'), 'barrier_me': index,
                                              'secrets_dir': secrets_dir}, cache_path=cache)
        assert again.rc == 0, again
        writes = [e['endpoint'] for e in sim.log()[mark:] if e['kind'] == 'write']
        assert not writes and not again.changed_tasks(), '%sthe re-run of cache %d wrote %s' % (context, index, writes)
        rel.converged(DECLARED, cache_path=cache, context='%sre-run of cache %d: ' % (context, index))


def test_a_run_that_finds_the_name_twice_while_a_race_settles_adopts_the_oldest(rel):
    """Two runs race; the loser's DeleteClient of its own creation is slow (6 s), and a third run
    (a cache of its own, an OAuth login so that its requests can be told apart in the log) is
    released as soon as the site has the name twice: its lookup finds two integrations with the
    name. By the same rule (the oldest stays) it adopts the oldest, creates nothing, and its play
    succeeds."""
    sim = rel.sim
    witness = lib.SecretWitness(sim, deletes=4)
    folder = _trial_dir(rel, 3, 98)
    sim.configure(faults=[{'endpoint': 'AddClient', 'status': None, 'delay': 1.2, 'count': 2},
                          {'endpoint': 'DeleteClient', 'status': None, 'delay': 6.0, 'count': 1}])
    runs = [_spawn_run(rel, folder, i) for i in range(2)]
    third = _spawn_run(rel, folder, 2, barrier='barrier-late', login='oauth')
    lib.release(folder / 'barrier', 2, [r[0] for r in runs])
    deadline = lib.time.monotonic() + 120
    while len(lib.sim_clients(sim).get(CC, [])) < 2:
        assert lib.time.monotonic() < deadline and all(r[0].proc.poll() is None for r in runs), 'no race on %r' % CC
        lib.time.sleep(0.01)
    lib.release(folder / 'barrier-late', 1, [third[0]])
    results = [r[0].wait(timeout=300) for r in runs + [third]]
    sim.wait_settled()
    log = sim.log()
    looked, deleted = (_first(log, lambda e: e['endpoint'] == 'OData' and e['auth'] == 'bearer'),
                       _first(log, lambda e: e['endpoint'] == 'DeleteClient'))
    if looked is None or deleted is None or looked > deleted:
        pytest.skip('timing: the third run did not look up while the name was there twice')
    check_trial(rel, 3, results, [r[1] for r in runs + [third]], [r[2] for r in runs + [third]], witness,
                'a third run looks up while the loser deletes: ')


# --- a rival stamped in the same second, landing after the read back (issue 21, item 10) ----------------

TIE_NAMES = ['Tie-one', 'Tie-two', 'Tie-three']  # plain names: the secrets folder names their files <name>.json
RIVAL_ID = '00000000-0000-4000-8000-000000000001'  # sorts before any Id Creatio gives
TIE_BATCH = """
- name: A run with a facts cache of its own
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Three integrations
      creatio.oauth.creatio_oauth_clients:
        secrets_dir: "{{ secrets_dir }}"
        clients:
""" + ''.join("""          - name: %s
            grant_type: client_credentials
            application_url: https://tie.example.com
            system_user_id: %s
""" % (name, lib.POWERBI_USER_ID) for name in TIE_NAMES)
TIE_ONE = """
- name: A run with a facts cache of its own
  hosts: localhost
  gather_facts: false
  tasks:
    - name: One integration
      creatio.oauth.creatio_oauth_client:
        name: %s
        grant_type: client_credentials
        application_url: https://tie.example.com
        system_user_id: %s
        client_secret_file: "{{ secrets_dir }}/tie.json"
""" % (TIE_NAMES[0], lib.POWERBI_USER_ID)


def _rival_of(name, landed):
    """A trigger action: another controller's AddClient of ``name`` lands, stamped in the same (whole)
    second as this run's creation and with an Id that sorts first, so that by the rule (the oldest
    CreatedOn, then the lowest Id) the rival's creation is the one that stays."""
    def action(sim):
        own = [c for c in sim.state()['clients'] if c['name'] == name]
        assert len(own) == 1, 'the rival was to land after this run created %r: %r' % (name, own)
        landed.append(sim.add_client(name, application_url='https://tie.example.com', record_id=RIVAL_ID,
                                     created_on=own[0]['createdOn']))
    return action


def _check_gave_way(rel, result, witness, data, name, secret_file, rival, context):
    """One integration named ``name``, the rival's; this run deleted its own creation, says so, adopted
    the rival's, and the secret of its deleted creation is nowhere (output, log, cache, secret files)."""
    server = lib.sim_clients(rel.sim)
    assert [c['clientId'] for c in server.get(name, [])] == [rival['clientId']], \
        '%s%d integrations named %r: %r' % (context, len(server.get(name, [])), name, server.get(name))
    calls = [op['call'] for op in data['operations']]
    assert calls == ['AddClient', 'DeleteClient'], (context, calls)
    assert data['client']['client_id'] == rival['clientId'] and 'client_secret' not in data, (context, data)
    assert [w for w in data.get('warnings') or [] if LOST in w and rival['clientId'] in w], (context, data.get('warnings'))
    assert not os.path.exists(secret_file), '%sa secret file of a deleted client is left: %s' % (context, secret_file)
    deleted = witness.deleted()
    assert len(deleted) == 1 and rival['clientId'] not in deleted, (context, sorted(deleted))
    rel.extra_secrets.update(('deleted client secret %s...' % secret[:4], secret) for secret in deleted.values())
    rel.scan(result, record=False)
    folder = os.path.dirname(secret_file)
    texts = dict((f, _text(os.path.join(folder, f))) for f in os.listdir(folder))
    assert not lib.scan_for_secrets(texts, deleted), context


def test_a_rival_stamped_in_the_same_second_after_the_read_back_leaves_one_integration_per_name(rel, tmp_path):
    """Whole-second CreatedOn (simulator switch stamp_precision: second). A batch creates three
    integrations; right after the first one's read back (before the second AddClient), another
    controller's creation of the first name lands in the same second, with an Id that sorts first.
    The read back saw only its own; that rival, reading back, sees both and keeps its own (the tie goes
    to its Id). This run must find that out once more at the end of the batch and give way: one
    integration per name, the rival's; its own deleted, its secret nowhere, its file removed."""
    sim = rel.sim
    sim.configure(stamp_precision='second')
    secrets_dir = str(tmp_path / 'secrets')
    landed = []
    witness = lib.SecretWitness(sim, deletes=1)
    sim.trigger('AddClient', _rival_of(TIE_NAMES[0], landed), skip=1, label='rival')
    result = rel.run(TIE_BATCH, extra_vars={'secrets_dir': secrets_dir})
    assert result.rc == 0, result
    assert len(landed) == 1, 'the rival never landed'
    items = dict((c['name'], c) for c in result.task_result('Three integrations')['clients'])
    item = dict(items[TIE_NAMES[0]], warnings=result.task_result('Three integrations').get('warnings'))
    _check_gave_way(rel, result, witness, item, TIE_NAMES[0], os.path.join(secrets_dir, 'Tie-one.json'), landed[0], 'batch: ')
    server = lib.sim_clients(sim)
    for name in TIE_NAMES[1:]:
        assert len(server[name]) == 1 and items[name].get('client_secret'), (name, server.get(name), items[name])
    deleted = [e for e in sim.log() if e['endpoint'] == 'DeleteClient']
    assert len(deleted) == 1
    assert lib.cache_clients(rel.cache_path, sim)[TIE_NAMES[0]]['client_id'] == landed[0]['clientId']


def test_a_rival_stamped_in_the_same_second_after_the_single_modules_read_back_leaves_one(rel, tmp_path):
    """The same for creatio_oauth_client: the rival lands after the read back right after creating
    (before the module reads its creation back once more, after a settle; where it does not, right
    after the run, which is when the rival would read back and keep its own)."""
    sim = rel.sim
    sim.configure(stamp_precision='second')
    secrets_dir = tmp_path / 'secrets'
    secrets_dir.mkdir(mode=0o700)
    landed = []
    witness = lib.SecretWitness(sim, deletes=1)
    rival = _rival_of(TIE_NAMES[0], landed)
    # the lookup and the read back after creating are the first two OData reads: the rival comes after them
    sim.trigger('OData', rival, skip=2, label='rival')
    result = rel.run(TIE_ONE, extra_vars={'secrets_dir': str(secrets_dir)})
    assert result.rc == 0, result
    if not landed:
        rival(sim)
    data = result.task_result('One integration')
    _check_gave_way(rel, result, witness, data, TIE_NAMES[0], str(secrets_dir / 'tie.json'), landed[0], 'single module: ')
    assert lib.cache_clients(rel.cache_path, sim)[TIE_NAMES[0]]['client_id'] == landed[0]['clientId']
