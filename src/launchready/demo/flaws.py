"""The catalogue of flaws the demo portal can be built with.

Each toggle names one concrete, independently switchable weakness so that the scanner's checks can
be exercised one by one: a run with every flaw on must light up every check, a run with none on
must come back clean. The names are part of the CLI (`launchready demo --flaw NAME`), so keep them
stable.
"""

FLAWS: dict[str, str] = {
    "no-hsts": "HTTPS responses carry no Strict-Transport-Security header.",
    "weak-headers": (
        "No X-Content-Type-Options, X-Frame-Options, frame-ancestors or Referrer-Policy, and the "
        "CSP allows 'unsafe-inline' scripts."
    ),
    "insecure-cookie": "The session cookie is set without Secure, HttpOnly or SameSite.",
    "cors-reflect": (
        "Any Origin is reflected in Access-Control-Allow-Origin together with "
        "Access-Control-Allow-Credentials: true."
    ),
    "http-no-redirect": "The plain-HTTP listener serves the portal instead of redirecting.",
    "no-canonical-host": "www.portal.test serves the portal instead of redirecting to the apex.",
    "redirect-chain": "Plain-HTTP www requests bounce through 3 redirects before reaching HTTPS.",
    "debug-errors": "Bad input causes a 500 response containing a Python traceback.",
    "exposed-files": "/.env, /.git/config, /static/app.js.map and /backup.sql are served publicly.",
    "open-admin": "The /admin dashboard is reachable without logging in.",
    "version-banner": "Server and X-Powered-By headers disclose framework and runtime versions.",
    "unauth-export": (
        "GET /api/reports/export is documented as protected but returns org data to anyone."
    ),
    "jwt-alg-none": "JWTs with alg 'none' or a stripped signature are accepted and trusted.",
    "jwt-weak-secret": "JWTs are signed with the dictionary word 'secret'.",
    "slow-login": "Login and invite acceptance take about 700 ms each.",
    "short-cert": "The HTTPS certificate expires in 10 days.",
}
