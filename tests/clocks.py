"""A clock that reads what the test set: time moves only when the test moves `now`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SetClock[T]:
    now: T

    def __call__(self) -> T:
        return self.now
