"""ownvoice: read your notes aloud in your own voice, locally."""

__version__ = "0.1.0"
