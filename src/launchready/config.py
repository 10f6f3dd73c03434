"""The user's words: `launchready.toml` (or `[tool.launchready]` in pyproject.toml), validated.

Credentials never live in the file. An account names the environment variables that hold its
username, password or token; a literal password or token is refused with a message that says
which key to use instead. Unknown keys are errors, so a typo never silently disables a check.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_NAME = "launchready.toml"

# Keys that would put a credential straight into the file.
_LITERAL_CREDENTIAL_KEYS = {
    "password": "password_env",
    "token": "token_env",
    "expired_token": "expired_token_env",
    "username": "username_env",
    "cookie": "cookie_env",
    "secret": "an environment variable",
    "api_key": "an environment variable",
}


class ConfigError(Exception):
    """A config problem, worded for the user: file, key and reason on one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    url: str = Field(description="the portal's canonical HTTPS address")
    http_url: str | None = Field(
        default=None, description="plain-HTTP address to test the HTTPS redirect; default port 80"
    )
    alternate_hosts: list[str] | None = Field(
        default=None, description="other names that must redirect to the canonical host"
    )
    ca_bundle: str | None = None
    openapi: str | None = Field(default=None, description="URL path, URL or file of the spec")
    har: str | None = Field(default=None, description="HAR capture of a normal session")
    resolve: dict[str, str] = Field(default_factory=dict, description="host -> IP, like --resolve")

    @field_validator("url", "http_url")
    @classmethod
    def _is_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("resolve")
    @classmethod
    def _addresses(cls, value: dict[str, str]) -> dict[str, str]:
        for host, address in value.items():
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(
                    f"{host} maps to {address!r}, which is not an IP address"
                ) from None
        return {host.lower(): address for host, address in value.items()}

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


class Scope(_Strict):
    hosts: list[str] = Field(default_factory=list, description="hosts probes may reach")
    active: bool = Field(default=False, description="the target is yours: allow active probes")
    request_budget: int = Field(default=3000, ge=1, le=1_000_000)
    rate_per_second: float = Field(default=25.0, gt=0, le=1000)
    connect_timeout: float = Field(default=5.0, gt=0, le=120)
    read_timeout: float = Field(default=10.0, gt=0, le=300)
    max_body_bytes: int = Field(default=2_000_000, ge=1024, le=100_000_000)
    check_timeout: float = Field(default=90.0, gt=0, le=3600)


class Account(_Strict):
    name: str
    tenant: str | None = None
    tenant_id: str | None = Field(
        default=None, description="the tenant's id as the API spells it (org_id, account_id)"
    )
    role: Literal["admin", "member"] = "member"
    username_env: str | None = None
    password_env: str | None = None
    token_env: str | None = None
    expired_token_env: str | None = Field(
        default=None, description="a token of this account that has expired, to test expiry"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_literal_credentials(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, instead in _LITERAL_CREDENTIAL_KEYS.items():
                if key in data:
                    raise ValueError(
                        f"'{key}' holds a literal credential; name the environment variable "
                        f"that holds it with {instead}"
                    )
        return data

    def credential(
        self, which: Literal["username", "password", "token", "expired_token"]
    ) -> str | None:
        """The value of the named environment variable, or None when unset."""
        env = getattr(self, f"{which}_env")
        return os.environ.get(env) if env else None


class Login(_Strict):
    """How an account logs in. Three kinds cover what real portals use:

    - `json`: a JSON API login (`json` template), token read from the answer at `token_path`;
    - `form`: a form-encoded POST, such as an OAuth2 password grant (`form` template);
    - `html-form`: the login page at `page` is loaded first, its hidden inputs (the CSRF token
      among them) are sent back with the `form` template; the session is the cookie jar.

    The token travels as `header: scheme token` (scheme "" sends it bare), or as the cookie
    `token_cookie`. `check` names an operation that answers 2xx only when logged in: it tells
    whether a session is still alive, and a dead one is renewed by logging in again.
    """

    kind: Literal["json", "form", "html-form"] = "json"
    method: str = "POST"
    path: str = "/api/login"
    json_body: dict[str, Any] | None = Field(default=None, alias="json")
    form: dict[str, str] | None = None
    page: str | None = Field(default=None, description="html-form: page that holds the form")
    csrf_field: str | None = Field(default=None, description="html-form: hidden CSRF input")
    csrf_cookie: str | None = Field(default=None, description="cookie whose value is the CSRF")
    csrf_header: str | None = Field(default=None, description="header to send the CSRF in")
    token_path: str | None = "access_token"
    header: str = "Authorization"
    scheme: str = "Bearer"
    token_cookie: str | None = None
    check: str | None = Field(default=None, description='e.g. "GET /api/me"')

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _body_for_kind(self) -> Login:
        if self.kind == "json" and self.json_body is None:
            raise ValueError("a json login needs a json template")
        if self.kind != "json" and self.form is None:
            raise ValueError(f"a {self.kind} login needs a form template")
        return self


class RequestTemplate(_Strict):
    """A request with placeholders: {username} {password} {n} {setup.KEY} {response.KEY}."""

    method: str = "GET"
    path: str
    json_body: dict[str, Any] | None = Field(default=None, alias="json")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Action(RequestTemplate):
    """A core onboarding action, sent as a request template to measure its latency.

    `setup` runs untimed before each sample (its JSON answer fills {setup.KEY}); `cleanup`
    runs after each sample (the action's JSON answer fills {response.KEY}), so that objects an
    action creates are removed again.
    """

    name: str
    account: str | None = Field(default=None, description="name of the account to send it as")
    credentials: str | None = Field(
        default=None, description="account whose username/password fill the placeholders"
    )
    samples: int = Field(default=20, ge=1, le=500)
    setup: RequestTemplate | None = None
    cleanup: RequestTemplate | None = None


class TokenFlow(_Strict):
    """A mailed single-use token: `request` makes the portal mail a link to `account`, `use`
    spends the token from that link ({token}, and {new_password}, made up by the scan)."""

    account: str = Field(description="whose mailbox receives the link")
    sender: str | None = Field(default=None, description="account that sends the request")
    request: RequestTemplate
    use: RequestTemplate
    token_param: str = "token"
    lifetime_seconds: int | None = Field(default=None, ge=1, le=86400)


class Enumeration(_Strict):
    """Requests that must answer alike for a known and an unknown user ({email})."""

    reset: RequestTemplate | None = None
    signup: RequestTemplate | None = None
    samples: int = Field(default=6, ge=3, le=50)


class Auth(_Strict):
    login: Login | None = None
    protected: list[str] = Field(
        default_factory=list, description='extra protected operations, e.g. "GET /api/me"'
    )
    logout: str | None = Field(default=None, description='e.g. "POST /api/logout"')
    mfa: str | None = Field(default=None, description='admin MFA status, e.g. "GET /api/mfa"')
    reset: TokenFlow | None = None
    invite: TokenFlow | None = None
    enumeration: Enumeration = Field(default_factory=Enumeration)


class AccessControl(_Strict):
    """Inputs of the authorization and tenant-isolation rows."""

    admin_operations: list[str] = Field(default_factory=list)
    admin_tags: list[str] = Field(default_factory=lambda: ["admin"])
    admin_path: str = Field(default=r"/admin(/|$)", description="regex for admin-only paths")
    create: list[RequestTemplate] = Field(
        default_factory=list, description="requests that create an object to test with"
    )
    skip: list[str] = Field(default_factory=list, description="operations never to call")
    max_operations: int = Field(default=60, ge=1, le=500)


class SmtpSink(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=1, le=65535)

    @field_validator("host")
    @classmethod
    def _loopback(cls, value: str) -> str:
        if value not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the SMTP sink listens on loopback only (127.0.0.1 or ::1)")
        return value


class Imap(_Strict):
    host: str
    port: int = 993
    ssl: bool = True
    username_env: str
    password_env: str
    mailbox: str = "INBOX"


class Mail(_Strict):
    """Where the portal's mail to test accounts can be read."""

    smtp_sink: SmtpSink | None = None
    mailpit: str | None = Field(default=None, description="Mailpit or MailHog base URL")
    imap: Imap | None = None
    wait_seconds: float = Field(default=15.0, gt=0, le=300)


class Attestation(_Strict):
    date: dt.date
    by: str
    note: str = ""


class Attestations(_Strict):
    monitoring: Attestation | None = None
    rollback: Attestation | None = None
    mfa: Attestation | None = None


class Config(_Strict):
    target: Target
    scope: Scope = Field(default_factory=Scope)
    accounts: list[Account] = Field(default_factory=list)
    auth: Auth = Field(default_factory=Auth)
    actions: list[Action] = Field(default_factory=list)
    authorization: AccessControl = Field(default_factory=AccessControl)
    mail: Mail = Field(default_factory=Mail)
    repo: str | None = None
    mail_domain: str | None = None
    attestations: Attestations = Field(default_factory=Attestations)

    @model_validator(mode="after")
    def _accounts_exist(self) -> Config:
        names = {account.name for account in self.accounts}
        for action in self.actions:
            for named in (action.account, action.credentials):
                if named and named not in names:
                    raise ValueError(f"action {action.name!r} names unknown account {named!r}")
        for flow_name, flow in (("reset", self.auth.reset), ("invite", self.auth.invite)):
            for named in (flow.account, flow.sender) if flow else ():
                if named and named not in names:
                    raise ValueError(f"auth.{flow_name} names unknown account {named!r}")
        return self

    def scope_hosts(self) -> set[str]:
        """The hosts probes may reach: the configured list, else every host the target names."""
        hosts = {h.lower() for h in self.scope.hosts}
        if not hosts:
            hosts.add(self.target.host)
            hosts.update(h.lower() for h in self.alternate_hosts())
            if self.target.http_url:
                hosts.add(urlsplit(self.target.http_url).hostname or "")
        return hosts

    def alternate_hosts(self) -> list[str]:
        if self.target.alternate_hosts is not None:
            return self.target.alternate_hosts
        host = self.target.host
        if _is_ip(host) or host in ("localhost",):
            return []
        return [host[4:]] if host.startswith("www.") else [f"www.{host}"]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def format_validation_error(path: Path, error: ValidationError) -> str:
    """One line per problem: file, key and reason."""
    lines = []
    for item in error.errors():
        key = _location(tuple(p for p in item["loc"] if p not in ("function-after",)))
        reason = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            reason = "unknown key"
        elif item["type"] in ("model_type", "dict_type", "model_attributes_type"):
            reason = f"must be a table ([{key}] with its keys), not a single value"
        lines.append(f"{path}: {key or '(top level)'}: {reason}")
    return "\n".join(lines)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(format_validation_error(path, error)) from None


def load_config(path: Path | None = None) -> tuple[Config, Path]:
    """Read the config from PATH, ./launchready.toml, or [tool.launchready] in pyproject.toml."""
    candidates = [path] if path else [Path(CONFIG_NAME), Path("pyproject.toml")]
    for candidate in candidates:
        if candidate.is_file():
            return _read(candidate), candidate
    if path and path.is_dir():
        raise ConfigError(f"{path}: is a folder; name the config file inside it")
    if path:
        raise ConfigError(f"{path}: no such file")
    raise ConfigError(
        f"no {CONFIG_NAME} here; write one with `launchready init URL` or pass --config PATH"
    )


def _read(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from None

    if path.name == "pyproject.toml":
        tool = data.get("tool")
        table = tool.get("launchready") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: has no [tool.launchready] table")
        data = table
    if not data:
        raise ConfigError(f"{path}: is empty; it needs at least [target] url")
    return parse_config(data, path)
