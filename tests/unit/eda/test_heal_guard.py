# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The self-healing guardrails: heals per host per hour, heals at once, maintenance, and what ends a heal."""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.plugin_utils._heal_guard import DEFERRED, GIVING_UP, HEAL, WINDOW, HealGuard

TIMEOUT = 180.0


def ask(guard, host, state, now, maintenance=False, max_per_hour=3, timeout=TIMEOUT):
    decision = guard.consider(host, state, maintenance, max_per_hour, timeout, now)
    return None if decision is None else decision.kind


def heal_cycle(guard, host, now, max_per_hour=3):
    """A stop, its heal, the start seen: returns the decision on the stop."""
    kind = ask(guard, host, 'stopped', now, max_per_hour=max_per_hour)
    ask(guard, host, 'start_pending', now + 1, max_per_hour=max_per_hour)
    ask(guard, host, 'started', now + 2, max_per_hour=max_per_hour)
    return kind


def test_a_stopped_recording_server_is_healed_once_while_the_heal_is_in_flight():
    guard = HealGuard(max_concurrent=1)
    assert ask(guard, 'a', 'started', 0) is None
    decision = guard.consider('a', 'stopped', False, 3, TIMEOUT, 1)
    assert decision.kind == HEAL and decision.details == {'attempt': 1, 'max_per_hour': 3, 'healing': 1, 'max_concurrent': 1}
    assert ask(guard, 'a', 'stopped', 2) is None, 'the heal is in flight: no second one'
    assert guard.healing == 1 and guard.in_flight('a')
    assert ask(guard, 'a', 'started', 3) is None
    assert guard.healing == 0


def test_pending_states_are_left_to_finish():
    guard = HealGuard(max_concurrent=1)
    for state in ('start_pending', 'stop_pending', 'paused', None):
        assert ask(guard, 'a', state, 0) is None


def test_a_start_that_fails_ends_the_attempt_and_the_next_one_follows():
    guard = HealGuard(max_concurrent=1)
    assert ask(guard, 'a', 'stopped', 0) == HEAL
    assert ask(guard, 'a', 'start_pending', 1) is None
    decision = guard.consider('a', 'stopped', False, 3, TIMEOUT, 2)
    assert decision.kind == HEAL and decision.details['attempt'] == 2


def test_a_heal_whose_outcome_is_not_seen_ends_after_the_timeout():
    guard = HealGuard(max_concurrent=1)
    assert ask(guard, 'a', 'stopped', 0) == HEAL
    assert ask(guard, 'a', 'stopped', TIMEOUT - 1) is None
    assert ask(guard, 'a', None, TIMEOUT - 0.5) is None, 'an unreachable host holds its heal until the timeout'
    assert guard.healing == 1
    assert ask(guard, 'a', 'stopped', TIMEOUT) == HEAL


def test_after_max_per_hour_heals_the_next_stop_gives_up_once_and_nothing_follows():
    guard = HealGuard(max_concurrent=1)
    assert [heal_cycle(guard, 'a', 10 * n, max_per_hour=2) for n in range(2)] == [HEAL, HEAL]
    decision = guard.consider('a', 'stopped', False, 2, TIMEOUT, 100)
    assert decision.kind == GIVING_UP and decision.details == {'attempts': 2, 'max_per_hour': 2}
    assert guard.given_up('a')
    assert [ask(guard, 'a', 'stopped', 100 + n, max_per_hour=2) for n in range(1, 5)] == [None] * 4
    assert ask(guard, 'a', 'stopped', 100 + WINDOW, max_per_hour=2) is None, 'the hour passing is not a person acting'


def test_heals_older_than_an_hour_no_longer_count():
    guard = HealGuard(max_concurrent=1)
    heal_cycle(guard, 'a', 0, max_per_hour=2)
    heal_cycle(guard, 'a', 100, max_per_hour=2)
    assert heal_cycle(guard, 'a', WINDOW + 1, max_per_hour=2) == HEAL


def test_a_recording_server_seen_running_while_given_up_starts_the_count_afresh():
    guard = HealGuard(max_concurrent=1)
    heal_cycle(guard, 'a', 0, max_per_hour=1)
    assert ask(guard, 'a', 'stopped', 10, max_per_hour=1) == GIVING_UP
    assert ask(guard, 'a', 'started', 20, max_per_hour=1) is None, 'someone started it'
    assert not guard.given_up('a')
    assert ask(guard, 'a', 'stopped', 30, max_per_hour=1) == HEAL


def test_maintenance_stops_every_heal_and_a_person_acting_starts_the_count_afresh():
    guard = HealGuard(max_concurrent=1)
    heal_cycle(guard, 'a', 0, max_per_hour=1)
    assert ask(guard, 'a', 'stopped', 10, max_per_hour=1) == GIVING_UP
    assert ask(guard, 'a', 'stopped', 20, maintenance=True, max_per_hour=1) is None
    assert not guard.given_up('a')
    assert ask(guard, 'a', 'stopped', 30, max_per_hour=1) == HEAL


def test_maintenance_set_during_a_heal_frees_its_place():
    guard = HealGuard(max_concurrent=1)
    assert ask(guard, 'a', 'stopped', 0) == HEAL
    assert ask(guard, 'a', 'stopped', 1, maintenance=True) is None
    assert guard.healing == 0
    assert ask(guard, 'b', 'stopped', 2) == HEAL


def test_no_more_hosts_are_healed_at_once_than_allowed_the_others_wait_and_follow():
    guard = HealGuard(max_concurrent=2)
    assert ask(guard, 'a', 'stopped', 0) == HEAL
    assert ask(guard, 'b', 'stopped', 0) == HEAL
    decision = guard.consider('c', 'stopped', False, 3, TIMEOUT, 0)
    assert decision.kind == DEFERRED and decision.details == {'healing': 2, 'max_concurrent': 2}
    assert ask(guard, 'c', 'stopped', 1) is None, 'deferred is said once per wait'
    assert guard.healing == 2
    ask(guard, 'a', 'started', 2)
    decision = guard.consider('c', 'stopped', False, 3, TIMEOUT, 3)
    assert decision.kind == HEAL and decision.details['healing'] == 2


def test_a_deferred_host_that_comes_back_by_itself_is_no_longer_waiting():
    guard = HealGuard(max_concurrent=1)
    ask(guard, 'a', 'stopped', 0)
    assert ask(guard, 'b', 'stopped', 0) == DEFERRED
    assert ask(guard, 'b', 'started', 1) is None
    assert ask(guard, 'b', 'stopped', 2) == DEFERRED, 'a new wait is said again'


def test_zero_heals_per_hour_gives_up_at_the_first_stop():
    guard = HealGuard(max_concurrent=1)
    assert ask(guard, 'a', 'stopped', 0, max_per_hour=0) == GIVING_UP
