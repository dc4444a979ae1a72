"""Telegram-first trading assistant for the crypto.com Exchange."""
