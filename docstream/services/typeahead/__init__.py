"""The typeahead services: titles, @mentions and words, built on the pure tries of
:mod:`docstream.typeahead`.

They keep their indexes in step with the database and with the other nodes as extensions of the
node (document events, peer messages, broker reconnections); the tries know nothing of that.
"""
