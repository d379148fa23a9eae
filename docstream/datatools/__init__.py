"""Data tools: backup, restore and copy between stores; import and export of plain text.

Framework-free and synchronous (the CLI runs them; the web layer uses only the import of one
text). The copier reads DocStream's schema from the live databases instead of a list of tables, so
a table or column added by a migration is copied without a change here.
"""
