"""A local Telegram Bot API emulator: the methods aiogram calls for polling and sending.

Speaks the real wire protocol (POST /bot<token>/<method>, form or multipart bodies, the
{"ok": ..., "result": ...} envelope), so the real aiogram client runs against it unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Cryptobot", "username": "cryptobot_sandbox_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}


FILES = "__files__"     # where a method handler finds the request's uploads


@dataclass
class RecordedCall:
    method: str
    params: dict[str, Any]
    at: float = 0.0                 # monotonic time it arrived
    outcome: str = "ok"             # ok | injected (a planned fault) | flood (the limits below) | error
    files: dict[str, bytes] = field(default_factory=dict)     # uploads (a photo), by the field naming them


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's flood control for sending: about one message a second per chat and thirty a second
    in all. A send beyond them is answered 429 with retry_after, as Telegram does, and recorded as
    the bot's own fault (`outcome="flood"`). `slack` absorbs loopback jitter between two sends that
    the bot paced exactly."""
    per_chat_interval: float = 1.0
    global_per_second: int = 30
    retry_after: int = 1
    slack: float = 0.05


SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup"})
# A planned fault: (HTTP code, description, retry_after or None), or None to answer normally.
Fault = tuple[int, str, int | None]
FaultPlan = Callable[[str, dict[str, Any]], Fault | None]


class PollConflict(Exception):
    """Another getUpdates took over from this one."""


@dataclass
class BotApiEmulator:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[RecordedCall] = field(default_factory=list)
    transcript: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    listeners: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)
    fail_next: dict[str, tuple[int, str, int | None]] = field(default_factory=dict)
    fault_plan: FaultPlan | None = None          # asked on every call after fail_next (chaos tests, bench)
    flood_limits: FloodLimits | None = None      # None: no flood control (the default)
    # As Telegram: a getUpdates arriving while another one waits ends the waiting one with 409
    # Conflict (two bot processes polling). Off by default; the replica tests turn it on.
    poll_conflicts: bool = False
    _poll_generation: int = 0
    # Webhook mode (setWebhook): each new update is POSTed to `webhook_url` with the secret header, as
    # Telegram does, instead of waiting for getUpdates (which then answers 409).
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_deliveries: list[tuple[int, int]] = field(default_factory=list)    # (update_id, HTTP status)
    _deliveries: set[asyncio.Future[Any]] = field(default_factory=set)
    _sends: dict[int, list[float]] = field(default_factory=dict)
    _all_sends: list[float] = field(default_factory=list)
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _changed: asyncio.Condition | None = None

    # --- the test / chat side ---------------------------------------------------------------

    def push_message(self, user_id: int, text: str, *, language_code: str | None = "es",
                     first_name: str = "Tester") -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": {"id": user_id, "type": "private", "first_name": first_name},
                                   "from": user, "text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.transcript.setdefault(user_id, []).append({"from": "user", **message})
        return self._push({"message": message})

    def push_callback(self, user_id: int, message_id: int, data: str, *, language_code: str | None = "es",
                      first_name: str = "Tester") -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        original = next((m for m in reversed(self.transcript.get(user_id, []))
                         if m.get("message_id") == message_id and m.get("from") == "bot"), None)
        message = {k: v for k, v in (original or {}).items() if k != "from"} or {
            "message_id": message_id, "date": int(time.time()), "chat": {"id": user_id, "type": "private"}}
        callback = {"id": f"cbq-{next(self._update_ids)}", "from": user, "chat_instance": str(user_id),
                    "message": message, "data": data}
        return self._push({"callback_query": callback})

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.transcript.get(chat_id, []) if m.get("from") == "bot"]

    def calls_of(self, method: str, *, outcome: str | None = "ok") -> list[RecordedCall]:
        """Calls of `method` that got this outcome (answered normally by default; None: all)."""
        return [c for c in self.calls if c.method == method and (outcome is None or c.outcome == outcome)]

    def flooded(self) -> list[RecordedCall]:
        """Sends refused because the bot itself went beyond the flood limits."""
        return [c for c in self.calls if c.outcome == "flood"]

    async def wait_for_call(self, method: str, *, count: int = 1, timeout: float = 10,
                            where: Callable[[RecordedCall], bool] | None = None) -> RecordedCall:
        async def reached() -> RecordedCall:
            condition = self._condition()
            async with condition:
                while True:
                    matching = [c for c in self.calls_of(method) if where is None or where(c)]
                    if len(matching) >= count:
                        return matching[count - 1]
                    await condition.wait()

        return await asyncio.wait_for(reached(), timeout)

    # --- the Bot API side -------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = await request.post()
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for key, value in form.items():
            params[key] = value if isinstance(value, str) else getattr(value, "filename", "file")
            if not isinstance(value, str) and hasattr(value, "file"):
                files[key] = value.file.read()
        # aiogram sends `photo=attach://<name>` with the bytes in the part `<name>`.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                files[key] = files[value[9:]]
        call = await self._record(method, params)
        call.files = files
        failure = self.fail_next.pop(method, None)
        if failure is None and self.fault_plan is not None:
            failure = self.fault_plan(method, params)
        if failure is not None:
            call.outcome = "injected"
        elif method in SEND_METHODS and self._flooding(params, call.at):
            call.outcome = "flood"
            retry = self.flood_limits.retry_after if self.flood_limits else 1
            failure = (429, f"Too Many Requests: retry after {retry}", retry)
        if failure is not None:
            code, description, retry_after = failure
            body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
            return web.json_response(body, status=code)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                                     status=404)
        try:
            result = await handler({**params, FILES: files})
        except PollConflict as conflict:
            call.outcome = "conflict"
            description = str(conflict) or ("Conflict: terminated by other getUpdates request; "
                                            "make sure that only one bot instance is running")
            return web.json_response({"ok": False, "error_code": 409, "description": description}, status=409)
        except ValueError as exc:
            call.outcome = "error"
            return web.json_response({"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"},
                                     status=400)
        return web.json_response({"ok": True, "result": result})

    async def _record(self, method: str, params: dict[str, Any]) -> RecordedCall:
        condition = self._condition()
        async with condition:
            call = RecordedCall(method, params, time.monotonic())
            self.calls.append(call)
            condition.notify_all()
        return call

    def _flooding(self, params: dict[str, Any], at: float) -> bool:
        """True when this send goes beyond the flood limits; a send that passes is counted."""
        limits = self.flood_limits
        if limits is None or "chat_id" not in params:
            return False
        chat = self._sends.setdefault(int(params["chat_id"]), [])
        if chat and at - chat[-1] < limits.per_chat_interval - limits.slack:
            return True
        recent = [t for t in self._all_sends if at - t < 1.0 - limits.slack]
        if len(recent) >= limits.global_per_second:
            return True
        chat.append(at)
        self._all_sends[:] = [*recent, at]
        return False

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    def _push(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **payload}
        if self.webhook_url:
            task = asyncio.ensure_future(self.post_update(self.webhook_url, update))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
            return update
        self.updates.append(update)
        loop = asyncio.get_event_loop()
        loop.call_soon(lambda: asyncio.ensure_future(self._notify()))
        return update

    async def post_update(self, url: str, update: dict[str, Any], *, secret: str | None = None) -> int:
        """Deliver one update to a webhook as Telegram does (also: again, or to another replica)."""
        from aiohttp import ClientSession, ClientTimeout

        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret if secret is None else secret}
        async with ClientSession(timeout=ClientTimeout(total=10)) as session, \
                session.post(url, json=update, headers=headers) as response:
            status = response.status
        self.webhook_deliveries.append((int(update["update_id"]), status))
        return status

    async def _notify(self) -> None:
        condition = self._condition()
        async with condition:
            condition.notify_all()

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook_url:
            raise PollConflict("Conflict: can't use getUpdates method while webhook is active; "
                               "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset", 0) or 0)
        timeout = float(params.get("timeout", 0) or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout > 0:
            condition = self._condition()
            async with condition:
                condition.notify_all()          # wakes a poll this one terminates
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(condition.wait_for(
                        lambda: bool(self.updates) or self._terminated(generation)), timeout)
        if self._terminated(generation):
            raise PollConflict
        return list(self.updates[:100])

    def _terminated(self, generation: int) -> bool:
        return self.poll_conflicts and generation != self._poll_generation

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        if params.get("drop_pending_updates") == "true":
            self.updates.clear()
        self.webhook_url, self.webhook_secret = "", ""
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        url = params.get("url", "")
        if not url.startswith(("https://", "http://")):
            raise ValueError("bad webhook: an HTTPS URL must be provided for webhook")
        self.webhook_url, self.webhook_secret = url, params.get("secret_token", "")
        if params.get("drop_pending_updates") == "true":
            self.updates.clear()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self.updates)}

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if not params.get("text"):
            raise ValueError("message text is empty")
        if len(params["text"]) > 4096:
            raise ValueError("message is too long")
        message = self._bot_message(chat_id, text=params["text"], reply_markup=params.get("reply_markup"))
        return message

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        width, height = _png_size(params[FILES].get("photo", b"")) or (640, 480)
        photo = [{"file_id": f"photo-{len(self.calls)}", "file_unique_id": f"u-photo-{len(self.calls)}",
                  "width": width, "height": height}]
        return self._bot_message(chat_id, caption=params.get("caption"), photo=photo,
                                 reply_markup=params.get("reply_markup"))

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        for message in self.transcript.get(chat_id, []):
            if message.get("message_id") == message_id and message.get("from") == "bot":
                message["text"] = params["text"]
                message["edit_date"] = int(time.time())
                if params.get("reply_markup"):
                    message["reply_markup"] = json.loads(params["reply_markup"])
                else:
                    message.pop("reply_markup", None)
                self._tell("edit", message)
                return {k: v for k, v in message.items() if k != "from"}
        raise ValueError("message to edit not found")

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        for message in self.transcript.get(chat_id, []):
            if message.get("message_id") == message_id and message.get("from") == "bot":
                message["reply_markup"] = json.loads(params.get("reply_markup") or '{"inline_keyboard": []}')
                return {k: v for k, v in message.items() if k != "from"}
        raise ValueError("message to edit not found")

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands[params.get("language_code", "")] = json.loads(params["commands"])
        return True

    async def _m_getMyCommands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(params.get("language_code", ""), [])

    async def _m_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(params.get("language_code", ""), None)
        return True

    async def _m_setChatMenuButton(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_deleteMessage(self, params: dict[str, Any]) -> Any:
        return True

    def _bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER}
        for key, value in content.items():
            if value is None:
                continue
            message[key] = json.loads(value) if key == "reply_markup" else value
        self.transcript.setdefault(chat_id, []).append({**message, "from": "bot"})
        self._tell("message", message)
        return message

    def _tell(self, kind: str, message: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(kind, message)


def _png_size(data: bytes) -> tuple[int, int] | None:
    """A PNG upload's width and height (what Telegram reports for the photo), None for anything else."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
