"""What people read, shared by the Telegram views and the Mini App: numbers, money and times per locale."""
