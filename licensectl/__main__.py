from licensectl.cli.app import main

raise SystemExit(main())
