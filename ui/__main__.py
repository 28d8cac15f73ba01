"""``python -m ui``: start the chat in the browser."""

from ui.app import main

raise SystemExit(main())
