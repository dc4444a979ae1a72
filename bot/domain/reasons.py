"""Why protection could not be (fully) placed, as a key and its values, so every user reads it in
their own language. The English templates double as the gettext message ids (the notifier
translates them); `text` is the English rendering kept in logs and in the database."""

from __future__ import annotations

from dataclasses import dataclass


def N_(text: str) -> str:
    """Marks a template for extraction by pybabel (-k N_)."""
    return text


TEMPLATES: dict[str, str] = {
    "shortfall_locked": N_("only {free} {asset} free: {locked} {asset} already locked by open sell orders "
                           "({orders})"),
    "shortfall_free": N_("only {free} {asset} free of {wanted} bought"),
    "below_minimum": N_("{quantity} {asset} at {price} is below the exchange's minimum order of {minimum} "
                        "{quote}"),
    "partly_protected": N_("only {protected} of {wanted} {asset} could be protected: the rest is not free "
                           "(locked by other sell orders or already sold)"),
    "no_fill_price": N_("the buy has no fill price to put the stop-loss and take-profit around"),
    "nothing_to_protect": N_("nothing to protect"),
    "refused": N_("the exchange refused the protection: {exchange}"),
    "stop_loss_refused": N_("the stop-loss was refused: {exchange}"),
    "take_profit_refused": N_("the take-profit was refused ({exchange}); only the stop-loss protects this "
                              "position"),
    "sibling_not_canceled": N_("one leg filled but the other ({order}) could not be canceled: {exchange}; "
                               "it is retried at the next sync"),
    "stop_loss_not_reduced": N_("the stop-loss could not be reduced to {quantity}: {exchange}"),
    "take_profit_not_reduced": N_("the take-profit could not be reduced to {quantity}: {exchange}"),
}


@dataclass(frozen=True)
class Reason:
    key: str
    args: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, key: str, **args: object) -> Reason:
        if key not in TEMPLATES:
            raise KeyError(f"no reason template {key!r}")
        return cls(key, tuple((name, str(value)) for name, value in args.items()))

    @property
    def values(self) -> dict[str, str]:
        return dict(self.args)

    @property
    def text(self) -> str:
        return TEMPLATES[self.key].format(**self.values)
