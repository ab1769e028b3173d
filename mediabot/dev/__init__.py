"""The local development console (`mediabot dev`): embedded services, fake Telegram, a chat in the terminal."""
