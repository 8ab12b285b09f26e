# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23, part 3: a lost client secret read back from Creatio (GetClientSecret), never by
creating, deleting or re-creating anything; where the site has no GetClientSecret, rotation is named."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils import _recovery as recovery
from ansible_collections.creatio.oauth.plugins.module_utils._site_check import check_site

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run, webhook_item as item


def apply(sim, tmp_path, secrets, check_mode=False, **kw):
    run = make_run(sim, tmp_path, check_mode=check_mode, clients=[item(**kw)], secrets_dir=str(secrets), verify_tokens=False)
    return run, batch.apply_many(run)


def created_then_lost(sim, tmp_path):
    """An integration created with its secret file, whose secrets folder is then lost."""
    secrets = tmp_path / 'secrets'
    _run, first = apply(sim, tmp_path, secrets)
    assert first['integrations'][0]['action'] == 'created', first
    path = secrets / 'Webhooks.json'
    client_id = json.loads(path.read_text())['client_id']
    path.unlink()
    os.rmdir(str(secrets))
    sim.clear_log()
    return secrets, path, client_id


def service_calls(sim):
    return [e['endpoint'] for e in sim.log() if e['kind'] in ('write', 'read') and not e['endpoint'].startswith('OData')
            and '/odata' not in (e['path'] or '')]


def cache_files(tmp_path, secrets):
    """The text of every file the run keeps outside the secrets folder (the facts cache, its session store)."""
    found = []
    for folder, _dirs, files in os.walk(str(tmp_path)):
        if not folder.startswith(str(secrets)):
            found += [open(os.path.join(folder, f), errors='replace').read() for f in files]
    return found


def no_secret_in(secret, *things):
    text = json.dumps(things, default=str)
    assert secret not in text and secret.lower() not in text


def test_a_lost_secret_file_is_read_back_on_81(sim, tmp_path):
    sim.configure(creatio_version='8.1')
    secrets, path, client_id = created_then_lost(sim, tmp_path)
    secret = sim.issued_secrets()['client_secrets'][client_id]

    run, result = apply(sim, tmp_path, secrets, recover_secret=True)
    assert result.get('failed') is not True, result
    written = json.loads(path.read_text())
    assert written['client_id'] == client_id and written['client_secret'] == secret
    assert oct(os.stat(str(path)).st_mode & 0o777) == oct(0o600)
    assert result['changed'] is True
    assert [op['call'] for op in result['clients'][0]['operations']] == ['GetClientSecret']
    assert 'client_secret' not in result['clients'][0]
    assert [e for e in sim.log() if e['kind'] == 'write'] == []
    assert 'GetClientSecret' in service_calls(sim) and not [c for c in service_calls(sim) if c in ('AddClient', 'DeleteClient')]
    no_secret_in(secret, result, run.warnings, cache_files(tmp_path, secrets))
    assert run.cache.site_fact(run.site, recovery.FACT) is True

    # once written, nothing more: no second read
    sim.clear_log()
    _run, again = apply(sim, tmp_path, secrets, recover_secret=True)
    assert again['changed'] is False and 'GetClientSecret' not in service_calls(sim)


def test_check_mode_says_would_and_sends_nothing(sim, tmp_path):
    sim.configure(creatio_version='8.1')
    secrets, path, _client_id = created_then_lost(sim, tmp_path)
    secrets.mkdir(mode=0o700)  # check mode makes no folder: the file alone is missing
    run, result = apply(sim, tmp_path, secrets, check_mode=True, recover_secret=True)
    assert result.get('failed') is not True, result
    operations = result['clients'][0]['operations']
    assert [op['call'] for op in operations] == ['GetClientSecret'] and operations[0]['summary'].startswith('would read back')
    assert 'GetClientSecret' not in service_calls(sim)
    assert not path.exists()


def test_without_the_option_nothing_is_read_and_the_way_out_is_named(sim, tmp_path):
    sim.configure(creatio_version='8.1')
    secrets, path, _client_id = created_then_lost(sim, tmp_path)
    run, result = apply(sim, tmp_path, secrets)
    assert result.get('failed') is not True and result['changed'] is False, result
    assert 'GetClientSecret' not in service_calls(sim) and not path.exists()
    assert any('recover_secret: true' in w and str(path) in w for w in run.warnings), run.warnings


def test_a_site_without_get_client_secret_names_rotation_and_writes_nothing(sim, tmp_path):
    sim.configure(get_client_secret=False)  # 8.3, where GetClientSecret may be gone
    secrets, path, client_id = created_then_lost(sim, tmp_path)
    clients_before = sim.state()['clients']

    run = make_run(sim, tmp_path, clients=[item(recover_secret=True), item('Other')], secrets_dir=str(secrets), verify_tokens=False)
    result = batch.apply_many(run)
    assert result.get('failed') is True
    message = result['clients'][0]['msg']
    assert 'cannot be read back from this site' in message and 'rotation' in message and 'state: absent' in message, message
    assert result['clients'][0]['error']['type'] == 'SecretNotReadableError'
    assert not path.exists()
    writes = [e['endpoint'] for e in sim.log() if e['kind'] == 'write']
    assert writes == ['AddClient'] and [c for c in sim.state()['clients'] if c['name'] != 'Other'] == clients_before
    assert result['integrations'][1]['action'] == 'created', result  # the failure concerns its integration only
    assert run.cache.site_fact(run.site, recovery.FACT) is False

    # the next run does not ask again (kept for a day), and says the same
    sim.clear_log()
    _run, again = apply(sim, tmp_path, secrets, recover_secret=True)
    assert 'GetClientSecret' not in service_calls(sim)
    assert 'rotation' in again['clients'][0]['msg'] and 'the facts cache' in again['clients'][0]['msg']

    # without the option: a warning naming rotation, not recover_secret
    run, third = apply(sim, tmp_path, secrets)
    assert third.get('failed') is not True
    assert any('cannot be read back' in w and 'rotation' in w for w in run.warnings), run.warnings
    del client_id


def test_the_site_check_reports_get_client_secret(sim, tmp_path):
    sim.configure(creatio_version='8.1')
    report = check_site(make_run(sim, tmp_path))
    line = [c for c in report['checks'] if c['check'] == 'read back a secret'][0]
    assert line['status'] == 'ok' and 'the method exists' in line['detail'], line
    assert [e for e in sim.log() if e['kind'] == 'write'] == []

    sim.configure(creatio_version='8.3', get_client_secret=False)
    (tmp_path / 'other').mkdir()
    report = check_site(make_run(sim, tmp_path / 'other'))
    line = [c for c in report['checks'] if c['check'] == 'read back a secret'][0]
    assert line['status'] == 'skipped' and 'HTTP 404' in line['detail'] and 'rotation' in line['detail'], line


def test_a_file_that_cannot_be_written_fails_naming_a_re_run_and_no_secret(sim, tmp_path, monkeypatch):
    from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
    from ansible_collections.creatio.oauth.plugins.module_utils._errors import CreatioError
    sim.configure(creatio_version='8.1')
    secrets, path, client_id = created_then_lost(sim, tmp_path)
    secret = sim.issued_secrets()['client_secrets'][client_id]

    def refuse(where, document):
        raise CreatioError('client_secret_file %s could not be written (No space left on device)' % where, hint=secret_file.SECRET_KEPT)
    monkeypatch.setattr(secret_file, 'write_secret_file', refuse)
    run, result = apply(sim, tmp_path, secrets, recover_secret=True)
    assert result.get('failed') is True and not path.exists()
    failure = result['clients'][0]
    assert 'No space left' in failure['msg'] and 're-run to read it back again' in failure['msg'], failure['msg']
    assert 'client_secret return value' not in failure['msg'] and 'client_secret' not in failure
    assert [e for e in sim.log() if e['kind'] == 'write'] == []
    no_secret_in(secret, result, run.warnings)


def _store_run(sim, tmp_path, store_dir, check_mode=False, **kw):
    from ansible_collections.creatio.oauth.plugins.module_utils._secret_delivery import with_secret_store
    run = make_run(sim, tmp_path, check_mode=check_mode, clients=[item(**kw)], secrets_dir=None, verify_tokens=False,
                   secret_store={'type': 'files', 'path': str(store_dir / '{name}.json')})
    run.module.run_command = None  # the files store runs no command
    return run, with_secret_store(batch.apply_many)(run)


def test_a_secret_store_that_lacks_the_secret_is_filled_by_reading_it_back_on_81(sim, tmp_path):
    """Issue 23: a store that lacks the current client's secret is filled from Creatio, creating nothing."""
    sim.configure(creatio_version='8.1')
    store_dir = tmp_path / 'store'
    store_dir.mkdir(mode=0o700)
    _run, first = _store_run(sim, tmp_path, store_dir)
    assert first['integrations'][0]['action'] == 'created', first
    stored = store_dir / 'Webhooks.json'
    client_id = json.loads(stored.read_text())['client_id']
    secret = sim.issued_secrets()['client_secrets'][client_id]
    stored.unlink()  # the store lost it
    sim.clear_log()

    run, quiet = _store_run(sim, tmp_path, store_dir)  # without recover_secret: a warning naming it, nothing read
    assert not stored.exists() and 'GetClientSecret' not in service_calls(sim)
    assert any('recover_secret' in w for w in run.warnings), run.warnings

    check, would = _store_run(sim, tmp_path, store_dir, check_mode=True, recover_secret=True)
    assert not stored.exists() and 'GetClientSecret' not in service_calls(sim), would

    run, result = _store_run(sim, tmp_path, store_dir, recover_secret=True)
    assert json.loads(stored.read_text())['client_secret'] == secret
    assert service_calls(sim) == ['GetClientSecret']  # read back: no AddClient, no DeleteClient, no write
    entry = result['integrations'][0]
    assert entry['action'] == 'updated' or result['changed'], result
    no_secret_in(secret, result, run.warnings, quiet, would)
