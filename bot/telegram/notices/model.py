"""A rendered notification: its kind, its HTML text and its buttons, storable in the outbox as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.notifications import Kind


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str


@dataclass(frozen=True)
class Notice:
    kind: Kind
    text: str                                         # HTML; every dynamic value already escaped
    buttons: tuple[tuple[Button, ...], ...] = ()      # rows of an inline keyboard

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "text": self.text,
                "buttons": [[{"text": b.text, "callback_data": b.callback_data} for b in row]
                            for row in self.buttons]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notice:
        rows = tuple(tuple(Button(b["text"], b["callback_data"]) for b in row) for row in data.get("buttons", ()))
        return cls(Kind(data["kind"]), data["text"], rows)
