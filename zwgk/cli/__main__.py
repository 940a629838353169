from zwgk.cli import main

raise SystemExit(main())
