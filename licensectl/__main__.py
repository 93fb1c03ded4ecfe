from licensectl.cli.entry import main

raise SystemExit(main())
