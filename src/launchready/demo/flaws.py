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
    "jwt-no-expiry": "A JWT past its exp time is still accepted.",
    "slow-login": "Login and invite acceptance take about 700 ms each.",
    "short-cert": "The HTTPS certificate expires in 10 days.",
    "idor-documents": "GET, PATCH and DELETE /api/documents/{id} serve any org's document.",
    "org-from-query": "An org id sent in the query, body or X-Org-Id header beats the session's.",
    "mass-assignment-role": "PATCH /api/me applies role, is_admin and org_id from the body.",
    "list-leak": "GET /api/documents lists every org's documents.",
    "admin-open-to-members": "GET /api/admin/users skips the admin check, so members may list.",
    "logout-no-revoke": "Logout clears the cookie but the bearer token and session stay valid.",
    "reset-token-reusable": "A password-reset token works again, even after the password changed.",
    "invite-token-reusable": "An invite token can be accepted again, creating one user each time.",
    "enumeration-messages": "Login, reset and signup answer unknown and known emails differently.",
    "session-fixation": "Login adopts an unknown session id from the cookie instead of a new one.",
    "long-session": "The session lasts 30 days (cookie Max-Age=2592000) instead of 8 hours.",
    "no-mfa": "There is no MFA: /api/mfa and /api/mfa/enroll answer 404.",
}
