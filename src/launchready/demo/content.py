"""Static text the demo portal serves: pages, the JS bundle and the files `exposed-files` leaks.

The leaked files look like what a hurried deploy really leaves behind (a `.env`, the git config,
a source map, a SQL dump), so the scanner's content checks are tested against something
plausible. Their secrets are generated per run; nothing here is a real credential.
"""

from __future__ import annotations

import html
import json
import secrets

APP_JS = """\
"use strict";
(function () {
  const api = (path, options = {}) =>
    fetch(path, { credentials: "same-origin", ...options }).then((r) => r.json());

  function renderDocuments(list) {
    const target = document.getElementById("documents");
    if (!target) return;
    target.replaceChildren(
      ...list.map((doc) => {
        const li = document.createElement("li");
        li.textContent = `${doc.filename} (${doc.size} bytes)`;
        return li;
      })
    );
  }

  document.addEventListener("DOMContentLoaded", () => {
    api("/api/documents").then((docs) => Array.isArray(docs) && renderDocuments(docs));
  });
})();
"""

SOURCE_MAP_COMMENT = "//# sourceMappingURL=app.js.map\n"

_APP_TS = """\
// Client portal front-end. Talks to the API with the session cookie.
// TODO(platform): remove the staging bypass before go-live.
const STAGING_API = "https://staging.portal.test/api";
export const api = (path: string, options: RequestInit = {}) =>
  fetch(path, { credentials: "same-origin", ...options }).then((r) => r.json());
"""


def page(title: str, body: str) -> str:
    """A minimal HTML page that loads the bundle; no inline script, so a strict CSP holds."""
    return (
        "<!doctype html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '  <meta charset="utf-8">\n'
        f"  <title>{html.escape(title)} - Client Portal</title>\n"
        '  <script src="/static/app.js" defer></script>\n'
        "</head>\n"
        "<body>\n"
        f"{body}\n"
        "</body>\n"
        "</html>\n"
    )


def home_page() -> str:
    """The landing page: what a client sees before and after logging in."""
    return page(
        "Home",
        "  <h1>Client Portal</h1>\n"
        "  <p>Share documents and complete your onboarding forms securely.</p>\n"
        '  <p><a href="/login">Sign in</a></p>\n'
        '  <ul id="documents"></ul>',
    )


def login_page(csrf_token: str, error: str | None = None) -> str:
    """The form-login page; the hidden csrf field pairs with the `csrf` cookie (double submit)."""
    message = f'  <p class="error">{html.escape(error)}</p>\n' if error else ""
    return page(
        "Sign in",
        "  <h1>Sign in</h1>\n"
        f"{message}"
        '  <form method="post" action="/login">\n'
        f'    <input type="hidden" name="csrf" value="{html.escape(csrf_token)}">\n'
        '    <label>Email <input type="email" name="email" autocomplete="username"></label>\n'
        '    <label>Password <input type="password" name="password"'
        ' autocomplete="current-password"></label>\n'
        '    <button type="submit">Sign in</button>\n'
        "  </form>",
    )


def admin_page(users: list[tuple[str, str, str]]) -> str:
    """The admin dashboard: every user of every org, which is why it must stay behind a login."""
    rows = "\n".join(
        f"    <tr><td>{html.escape(email)}</td><td>{html.escape(org)}</td>"
        f"<td>{html.escape(role)}</td></tr>"
        for email, org, role in users
    )
    return page(
        "Admin",
        "  <h1>Admin dashboard</h1>\n"
        "  <table>\n"
        "    <tr><th>Email</th><th>Org</th><th>Role</th></tr>\n"
        f"{rows}\n"
        "  </table>",
    )


def dot_env() -> str:
    """A leaked `.env`; the key is random per run so the scanner sees a secret-shaped value."""
    return (
        "# Client portal production settings\n"
        "APP_ENV=production\n"
        "DEBUG=false\n"
        "DATABASE_URL=sqlite:///portal.db\n"
        f"SECRET_KEY={secrets.token_urlsafe(32)}\n"
        "SESSION_COOKIE_NAME=session\n"
    )


GIT_CONFIG = """\
[core]
\trepositoryformatversion = 0
\tfilemode = true
\tbare = false
\tlogallrefupdates = true
[remote "origin"]
\turl = git@git.portal.test:platform/client-portal.git
\tfetch = +refs/heads/*:refs/remotes/origin/*
[branch "main"]
\tremote = origin
\tmerge = refs/heads/main
"""


def source_map() -> str:
    """A source map that ships the original TypeScript, comments and all."""
    return json.dumps(
        {
            "version": 3,
            "file": "app.js",
            "sources": ["../src/app.ts"],
            "sourcesContent": [_APP_TS],
            "names": [],
            "mappings": "AAAA;AACA",
        },
        indent=2,
    )


def backup_sql(users: list[tuple[str, str, str, str]]) -> str:
    """A leftover SQL dump of the users table: (email, name, role, password hash) rows."""
    inserts = "\n".join(
        f"INSERT INTO users (email, name, role, password_hash) VALUES "
        f"('{email}', '{name}', '{role}', '{password_hash}');"
        for email, name, role, password_hash in users
    )
    return (
        "-- SQLite dump of portal.db\n"
        "BEGIN TRANSACTION;\n"
        "CREATE TABLE users (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  email VARCHAR(200) UNIQUE NOT NULL,\n"
        "  name VARCHAR(100) NOT NULL,\n"
        "  role VARCHAR(20) NOT NULL,\n"
        "  password_hash VARCHAR(200) NOT NULL\n"
        ");\n"
        f"{inserts}\n"
        "COMMIT;\n"
    )
