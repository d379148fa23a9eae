"""Entry point of the PyInstaller bundle: the same ``docstream`` command as the installed package."""

import multiprocessing
import sys

if __name__ == "__main__":
    # granian starts its workers with multiprocessing: a frozen child must not re-run the CLI.
    multiprocessing.freeze_support()
    from docstream.cli import main

    sys.exit(main())
