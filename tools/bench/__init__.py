# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: what a bootstrap of N integrations costs, against the local simulator.

For each N (default 1, 10, 50) and each repetition (default 3; the median is reported), it runs the
real ``ansible-playbook`` of the tools venv on localhost:

* this collection, through the ``creatio.oauth.integrations`` role, which applies all integrations
  with one ``creatio_oauth_clients`` task (or, with ``--via loop``, one ``creatio_oauth_client``
  task looping over the integrations: one module process per integration, for comparison):
  ``first`` (fresh site, empty cache), ``rerun`` (nothing to do), ``check`` (``--check`` of that
  converged site), ``rerun-noverify`` (the modules' ``verify: false``: the cache is trusted) and
  ``check-new`` (``--check`` against a fresh site: the preview of a first run);
* ``baseline``: what users write today with ``ansible.builtin.uri``: one login task, one task that
  builds the Cookie and BPMCSRF headers, then one AddClient task per integration (N tasks, no loop);
* ``floor``: N tasks of ``ansible.builtin.ping`` (Ansible's own per-task cost).

The simulator's request log is counted per run (logins, tokens, reads, writes, per endpoint) and
checked: a run that fails, or sends what it should not, makes the bench exit 1 after the report.
Then a micro benchmark of the facts cache (parse, lookup, update, file size at 10, 500, 5,000
clients) and of the module start-up (imports). The table goes to stdout, everything to
``build/bench/results.json``.

Timing targets (issue 8) are reported as PASS/MISS; they do not change the exit status unless
``--strict`` is given (wall times on a shared machine are noisy).
"""
