"""The template probes: mutations, huge values and loops a stop_condition must refuse (in
process in tests/test_config_templates.py, through the CLI in tests/test_hostile_requests.py)."""

from __future__ import annotations

MUTATIONS = (
    "{{ records.clear() or False }}",
    "{{ records.extend(records) or False }}",
    "{{ records.append({'id': 99}) or False }}",
    "{{ records.pop() and False }}",
    "{{ records.reverse() or False }}",
    "{{ records.sort(key=len) or False }}",
    "{{ records.insert(0, {}) or False }}",
    "{{ records.remove(records[0]) or False }}",
    "{{ response.update({'next': None}) or False }}",
    "{{ response.pop('next') and False }}",
    "{{ response.setdefault('next', None) and False }}",
    "{{ response.popitem() and False }}",
    "{{ response.clear() or False }}",
    "{{ headers.update({'X': 'y'}) or False }}",
    "{{ records[0].update({'id': 0}) or False }}",
    "{{ response.__setitem__('next', None) or False }}",
    "{{ response.get.__self__.clear() or False }}",
    "{{ (response.update if True else None)({'next': None}) or False }}",
    "{{ [response.update][0]({'next': None}) or False }}",
    "{{ getattr(response, 'update')({'next': None}) or False }}",
    "{{ dict.update(response, {'next': None}) or False }}",
    "{{ (x := records) and False }}",
    "{{ del records[0] }}",
    "{{ records[0] = 1 }}",
    "{{ records += records }}",
)
HUGE = (
    "{{ 3**3999999 > 0 }}",
    "{{ " + " * ".join(["3**3999999"] * 8) + " > 0 }}",
    "{{ 10**10**10 > 0 }}",
    "{{ len('a'*10**9) > 0 }}",
    "{{ len([0]*10**9) > 0 }}",
    "{{ 2 << 10**9 > 0 }}",
    "{{ len('%0999999999d' % 1) > 0 }}",
    "{{ len(f'{page:>999999999}') > 0 }}",
    "{{ int('9' * 4000) > 0 }}",
    # only the data makes them huge: the stream fails when they are evaluated
    "{{ len('x' * (page * 10**9)) > 0 }}",
    "{{ (page + 1) ** 10**7 > 0 }}",
    "{{ len(records * 10**9) > 0 }}",
    "{{ page << 10**6 > 0 }}",
    "{{ len(str(response)) < 0 }}",
    "{{ len(f'{records}') < 0 }}",
)
LOOPS = (
    "{{ [x for x in range(10**9)] }}",
    "{{ len([r for r in records for s in records for t in records]) < 0 }}",
    "{{ any(r for r in records) }}",
    "{{ sum(range(10**9)) > 0 }}",
    "{{ {k: v for k, v in response.items()} }}",
    "{{ (lambda f: f(f))(lambda f: f(f)) }}",
    "{{ " + "+".join(["len(records)"] * 400) + " < 0 }}",
    "{{ " + "-" * 150 + "page < 0 }}",
)
RUNTIME = {"{{ len('x' * (page * 10**9)) > 0 }}", "{{ (page + 1) ** 10**7 > 0 }}"} | {
    "{{ len(records * 10**9) > 0 }}",
    "{{ page << 10**6 > 0 }}",
    "{{ len(str(response)) < 0 }}",
    "{{ len(f'{records}') < 0 }}",
}
"""The probes only the page can refuse: every other one is a config error at start-up."""
PROBES = [("mutation", t) for t in MUTATIONS] + [("huge", t) for t in HUGE]
PROBES += [("loop", t) for t in LOOPS]
