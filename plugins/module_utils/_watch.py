# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""When the next status read of a service in flight is worth making: Watch, timed by what Windows reports.

This is private to the collection: its interface may change without notice. PlanExecutor (_execute) keeps a Watch for
each step in flight; its docstring says how the reads are timed.
"""

from __future__ import annotations

import typing as t

# How long to wait between status reads (Watch.next_read). Windows tells a pending service's WaitHint only in
# a status read, so the first comes soon after the request; once a hint is 0 or has passed, reads back off as
# Microsoft's service samples do: a tenth of the hint, at least 1 s, at most 10 s ("Starting a Service" and
# "Stopping a Service" in the Win32 services documentation). No wait is longer than that 10 s either.
FIRST_READ = 0.1
BACKOFF_MIN = 1.0
MAX_WAIT = 10.0


class Watch:
    """What the status reads said of one step in flight, and so when the next read is worth making."""

    def __init__(self, since: float) -> None:
        self.since = since  # when the request was answered (or the wait for a service on its way began)
        self.reported_since = since  # the earliest moment the service's latest report can have been made
        self.read_at: t.Optional[float] = None  # when the latest read that saw it on its way was sent
        self.check_point: t.Optional[int] = None
        self.wait_hint = 0.0
        self.late = False  # a read at or after its due time still saw it on its way

    @property
    def due(self) -> float:
        return self.reported_since + self.wait_hint

    def saw(self, status: t.Any, read_at: float) -> None:
        """A read sent at read_at saw the service still on its way."""
        self.late = self.late or (self.wait_hint > 0 and read_at >= self.due)
        if status.check_point != self.check_point and self.read_at is not None:
            # A new report, made after the previous read: its hint counts from then at the earliest.
            self.reported_since = self.read_at
        self.check_point, self.wait_hint, self.read_at = status.check_point, status.wait_hint, read_at

    @property
    def _promised(self) -> bool:
        """The latest read saw a hint whose due time is still ahead of that read."""
        return self.read_at is not None and self.wait_hint > 0 and self.due > self.read_at

    @property
    def at_due(self) -> bool:
        """The next read is at the due time of a hint not yet overrun (next_read): Windows promised a report by then."""
        return self._promised and not self.late

    def next_read(self) -> float:
        """Soon after the request (that read tells the hint), then at the due time; backing off once there is no hint
        or the service is late (then a new report's due time is waited for only when it is further off)."""
        if self.read_at is None:
            return self.since + FIRST_READ
        if self.at_due:
            return self.due
        backoff = self.read_at + min(MAX_WAIT, max(BACKOFF_MIN, self.wait_hint / 10))
        return max(self.due, backoff) if self._promised else backoff
