"""Full-text search across the documents a user can open.

:mod:`.indexer` keeps the store's search index in step with the documents (an extension, off the
commit path); :mod:`.query` answers ``GET /search`` with ranked hits and :mod:`.snippets` cuts
their plain-text snippets.
"""
