from infertui.cli import main

raise SystemExit(main())
