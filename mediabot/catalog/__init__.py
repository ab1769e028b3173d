"""The shared catalogue: media files and bot users, on MongoDB.

Plugins use it through the public API (``mediabot.MediaFile``,
``mediabot.FileRepository``...) and the app's ``app.files`` / ``app.users``.
"""
