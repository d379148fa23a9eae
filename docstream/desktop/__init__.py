"""``docstream desktop``: the editor for one person, in a window, with the server inside.

The shell (``shell.py``) runs the ordinary DocStream app (``create_app``) on a free port of
``127.0.0.1`` in a thread of its own process (``embedded.py``), with SQLite in the user's data
dir and the in-process broker, and opens a pywebview window on it. A local profile
(``profile.py``) signs the window in without a sign-up form; one instance per data dir
(``instance.py``) keeps a second launch from opening a second server on the same database.
Nothing here is imported by ``docstream serve``.
"""
