"""The exchange stopped answering (the bot stopped writing to it), and when it answers again: one
message each way, whatever the number of failed requests in between."""

from __future__ import annotations

from bot.domain.events import ExchangeCircuitChanged
from bot.domain.notifications import Kind
from bot.presentation.formatting import duration
from bot.telegram.notices.model import Notice
from bot.telegram.wording import Reader, esc, headline


def render_circuit(event: ExchangeCircuitChanged, reader: Reader) -> Notice:
    _ = reader.text
    if event.opened:
        lines = [headline("⚠️", _("The exchange is not answering"), event.mode, reader),
                 _("{failures} requests in a row failed (last: {cause}). The bot sends no orders until it "
                   "answers again and asks it less often meanwhile.", failures=str(event.failures),
                   cause=esc(event.cause)),
                 _("Protection of new fills waits and is placed as soon as the exchange answers.")]
    else:
        lines = [headline("✅", _("The exchange answers again"), event.mode, reader),
                 _("After {duration} without useful answers, orders and protection go on as usual.",
                   duration=esc(duration(event.seconds_open, reader.locale)))]
    # Protection is what an outage puts at risk: the message shares that kind's level.
    return Notice(Kind.PROTECTION, "\n".join(lines))
