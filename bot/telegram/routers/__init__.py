"""One aiogram router per feature; `bot.telegram.setup.build_routers` builds fresh ones for each dispatcher."""
