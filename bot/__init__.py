"""The app: the message pipeline, channels, storage, staff pages and the composition root."""
