"""Serve Flowdesk with the web desktop for the browser tests: what `flowdesk serve` does
(migrate, load the demo company, uvicorn), plus the web router while the application factory
does not include it yet.

    python tests/web/serve_web.py --port 8123 --database-url sqlite:///var/web.db
"""

from __future__ import annotations

import argparse
import sys

import uvicorn

import flowdesk.web as web
from flowdesk.api.app import create_app
from flowdesk.cli.demo import load_demo_content
from flowdesk.settings import Settings
from flowdesk.store import Store


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    store = Store.open(args.database_url)
    store.upgrade()
    for line in load_demo_content(store):
        print(line, file=sys.stderr)
    app = create_app(Settings(database_url=args.database_url), store)
    if not any(getattr(route, "path", None) == "/login" for route in app.routes):
        app.include_router(web.router)
        web.mount_static(app)
    print(f"serving on http://127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
