from docstream.cli import main

raise SystemExit(main())
