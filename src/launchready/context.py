"""What a check may ask for: the config, the probes, and facts collected once per scan.

Facts are cached, so ten header checks cost one page load. Every fact that needs the network
comes from `launchready.probe`; nothing here decides whether a fact is good or bad.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from launchready.config import Account, Config
from launchready.engines import access
from launchready.engines.templates import fill
from launchready.probe import mail, tls
from launchready.probe import openapi as openapi_spec
from launchready.probe.http import HttpProbe, Limits, Response
from launchready.probe.login import Session, log_in, session_from_token
from launchready.probe.redact import Redactor


@dataclass(frozen=True)
class Need:
    name: str
    reason: str  # why the check could not run, worded for the scorecard
    config_key: str  # what to set so it can


NEEDS: dict[str, Need] = {
    "https": Need("https", "the target is not an https:// URL", "target.url"),
    "active": Need(
        "active",
        "active probes are off for a target that is not loopback",
        "scope.active = true",
    ),
    "actions": Need("actions", "no core actions are configured", "[[actions]]"),
    "protected": Need(
        "protected",
        "no protected operations are known (no OpenAPI document, none listed)",
        "target.openapi or auth.protected",
    ),
    "two-tenants": Need(
        "two-tenants",
        "two accounts in two different tenants are needed",
        "[[accounts]] with tenant",
    ),
    "mailbox": Need(
        "mailbox",
        "no mailbox is configured to read the portal's mail",
        "mail.smtp_sink, mail.mailpit or mail.imap",
    ),
    "reset-flow": Need("reset-flow", "no password-reset flow is configured", "auth.reset"),
    "invite-flow": Need("invite-flow", "no invite flow is configured", "auth.invite"),
    "attestation-monitoring": Need(
        "attestation-monitoring", "no monitoring attestation", "attestations.monitoring"
    ),
    "attestation-rollback": Need(
        "attestation-rollback", "no rollback attestation", "attestations.rollback"
    ),
}

OPENAPI_PATHS = (
    "/openapi.json",
    "/swagger.json",
    "/api/openapi.json",
    "/v3/api-docs",
    "/api/schema/",
    "/openapi.yaml",
)


ALIVE_FOR_S = 10.0


def is_loopback(host: str, resolve: dict[str, str]) -> bool:
    address = resolve.get(host, host)
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


log = logging.getLogger(__name__)


async def _ready(value: Any) -> Any:
    return value


class _Once:
    """An async value computed at most once, however many checks ask at the same time."""

    def __init__(self, factory: Callable[[], Awaitable[Any]]) -> None:
        self._factory = factory
        self._task: asyncio.Task[Any] | None = None

    def peek(self) -> Any:
        """The value when it was computed and succeeded, else None (never starts the work)."""
        task = self._task
        if task is None or not task.done() or task.cancelled() or task.exception():
            return None
        return task.result()

    async def get(self) -> Any:
        if self._task is None:
            self._task = asyncio.ensure_future(self._factory())
        # Shielded: a check that times out while waiting must not cancel the shared fact
        # for every other check waiting on it.
        return await asyncio.shield(self._task)


class ScanContext:
    def __init__(
        self, config: Config, config_dir: Path | None = None, *, passive: bool = False
    ) -> None:
        self.config = config
        self.passive = passive  # no active probe, whatever the target
        self.config_dir = config_dir or Path.cwd()
        self.redactor = Redactor()
        for account in config.accounts:
            for which in ("password", "token", "expired_token"):
                self.redactor.register(account.credential(which))
        scope = config.scope
        self.limits = Limits(
            hosts=frozenset(config.scope_hosts()),
            request_budget=scope.request_budget,
            rate_per_second=scope.rate_per_second,
            connect_timeout=scope.connect_timeout,
            read_timeout=scope.read_timeout,
            max_body_bytes=scope.max_body_bytes,
        )
        self.http = HttpProbe(
            self.limits,
            resolve=config.target.resolve,
            ca_bundle=self.ca_bundle,
            redactor=self.redactor,
        )
        self._home = _Once(lambda: self.http.send("GET", self.base_url + "/"))
        self._landing = _Once(self._land)
        self._tls = _Once(self._collect_tls)
        self._openapi = _Once(self._load_openapi)
        self._sessions: dict[str, _Once] = {}
        self._alive_until: dict[str, float] = {}
        self._probes: list[HttpProbe] = []
        self._inventory = _Once(self._build_inventory)
        self._mailbox = _Once(self._open_mailbox)

    # -- plain facts -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.config.target.url

    @property
    def host(self) -> str:
        return self.config.target.host

    @property
    def ca_bundle(self) -> str | None:
        bundle = self.config.target.ca_bundle
        if bundle and not Path(bundle).is_absolute():
            return str(self.config_dir / bundle)
        return bundle

    def url(self, path: str, host: str | None = None, scheme: str | None = None) -> str:
        parts = urlsplit(self.base_url)
        netloc = parts.netloc
        if host is not None:
            netloc = host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((scheme or parts.scheme, netloc, path, "", ""))

    def http_url(self, host: str | None = None) -> str:
        """The plain-HTTP address of the target (or of another of its hosts)."""
        if self.config.target.http_url:
            parts = urlsplit(self.config.target.http_url)
            netloc = (host or parts.hostname or "") + (f":{parts.port}" if parts.port else "")
            return urlunsplit(("http", netloc, "/", "", ""))
        return f"http://{host or self.host}/"

    def has(self, need: str) -> bool:
        config = self.config
        if need == "https":
            return self.base_url.startswith("https://")
        if need == "active":
            if self.passive:
                return False
            return config.scope.active or is_loopback(self.host, config.target.resolve)
        if need == "actions":
            return bool(config.actions)
        if need == "protected":
            return bool(config.auth.protected) or config.target.openapi != "none"
        if need == "two-tenants":
            return len(self.tenant_owners()) >= 2
        if need == "mailbox":
            mail_config = config.mail
            return bool(mail_config.smtp_sink or mail_config.mailpit or mail_config.imap)
        if need == "reset-flow":
            return config.auth.reset is not None
        if need == "invite-flow":
            return config.auth.invite is not None
        if need == "attestation-monitoring":
            return config.attestations.monitoring is not None
        if need == "attestation-rollback":
            return config.attestations.rollback is not None
        raise KeyError(f"unknown need {need!r}")

    # -- facts collected once --------------------------------------------------------------

    async def home(self) -> Response:
        result: Response = await self._home.get()
        return result

    async def landing_page(self) -> Response:
        """The page a browser shows for `/`: the home page, or where its redirects lead (hops
        that leave the scope are not followed)."""
        result: Response = await self._landing.get()
        return result

    async def _land(self) -> Response:
        home = await self.home()
        if not home.is_redirect:
            return home
        return (await self.http.follow("GET", self.base_url + "/"))[-1]

    def unreachable(self) -> str | None:
        """Why the home page got no answer, once a check has asked for it; else None."""
        home: Response | None = self._home.peek()
        return home.error if home is not None else None

    async def tls_facts(self) -> tls.TlsFacts:
        result: tls.TlsFacts = await self._tls.get()
        return result

    async def openapi(self) -> tuple[dict[str, Any] | None, str]:
        """The OpenAPI document and where it came from, or None and the reason."""
        result: tuple[dict[str, Any] | None, str] = await self._openapi.get()
        return result

    async def protected_operations(self) -> tuple[list[openapi_spec.Operation], str]:
        """Operations that need credentials: from config and from the OpenAPI document."""
        found = [openapi_spec.parse_operation(text) for text in self.config.auth.protected]
        document, source = await self.openapi()
        if document is not None:
            found += [op for op in openapi_spec.operations(document) if op.secured]
        unique = {op.label: op for op in found}
        return list(unique.values()), source

    def account(self, name: str) -> Account:
        return next(a for a in self.config.accounts if a.name == name)

    def accounts_with(self, *, role: str | None = None) -> list[Account]:
        """Accounts the probes may use, by role. The reset flow's account is left out: the scan
        changes its password, so no other probe may count on logging in as it."""
        reset = self.config.auth.reset
        reserved = {reset.account} if reset else set()
        return [
            a
            for a in self.config.accounts
            if a.name not in reserved and (role is None or a.role == role)
        ]

    async def login(self, name: str) -> Session:
        """The account's session for this scan, logged in once and shared by the checks."""
        if name not in self._sessions:
            self._sessions[name] = _Once(lambda: self._first_login(name))
        session: Session = await self._sessions[name].get()
        return session

    async def _first_login(self, name: str) -> Session:
        """The shared session; a login its `check` confirmed needs no second look right away."""
        session = await self.fresh_login(name)
        if not session.error and self.check_operation() is not None:
            self._alive_until[name] = time.monotonic() + ALIVE_FOR_S
        return session

    async def session(self, name: str) -> Session:
        """The account's session, checked to be alive first and renewed when it expired.

        A session found alive is trusted for `ALIVE_FOR_S` before it is asked again: checks
        call this once per object, and a liveness request per object would double the matrix.
        Checks that judge refusals still ask `is_alive` themselves before trusting them.
        """
        session = await self.login(name)
        if session.error or self._alive_until.get(name, 0.0) > time.monotonic():
            return session
        if await self.is_alive(session):
            self._alive_until[name] = time.monotonic() + ALIVE_FOR_S
            return session
        log.info("session of %s expired mid-scan; logging in again", name)
        renewed = await self.fresh_login(name)
        if not renewed.error:
            self._sessions[name] = _Once(lambda: _ready(renewed))
        return renewed

    @staticmethod
    def login_hint(session: Session, config_key: str) -> str:
        """The config key to suggest for a session that failed: none when a login was tried and
        refused, since the keys are set and the credentials themselves are wrong."""
        refused = (session.error or "").startswith("login failed")
        return "" if refused else config_key

    async def is_alive(self, session: Session) -> bool:
        """True when the login's `check` operation answers 2xx (or when there is none)."""
        checked = await self._ask_check(session)
        alive = checked is None or _is_2xx(checked)
        if not alive:
            self._alive_until.pop(session.account, None)  # renewed at the next `session()`
        return alive

    def check_operation(self) -> openapi_spec.Operation | None:
        """The login's `check`: a read that answers 2xx only while logged in."""
        login = self.config.auth.login
        return openapi_spec.parse_operation(login.check) if login and login.check else None

    async def _ask_check(self, session: Session) -> Response | None:
        """The answer of the login's `check` operation for this session; None without one."""
        op = self.check_operation()
        return await session.send(op.method, self.url(op.path)) if op else None

    async def fresh_login(self, name: str) -> Session:
        """A new session of its own (own cookie jar), e.g. to log out without harm."""
        account = self.account(name)
        probe = self.http.sibling(name)
        self._probes.append(probe)
        login = self.config.auth.login

        token = account.credential("token")
        if token:
            self.redactor.register(token)
            return session_from_token(name, probe, login, token)
        if not self.has("active"):
            return Session(name, probe, error="logins are active probes: set scope.active = true")
        username, password = account.credential("username"), account.credential("password")
        if not login:
            return Session(name, probe, error=f"cannot log in {name}: auth.login is not set")
        if not (username and password):
            missing = account.username_env if not username else account.password_env
            return Session(name, probe, error=f"cannot log in {name}: ${missing} is not set")

        session = await log_in(name, probe, login, self.url, username, password)
        self.redactor.register(session.token)
        if session.error or not login.check:
            return session

        # A login page that answers 200 with the form again is a failed login: only the
        # `check` operation tells.
        checked = await self._ask_check(session)
        if checked is not None and not _is_2xx(checked):
            reason = checked.error or f"{login.check} answered HTTP {checked.status} after it"
            session.error = f"login failed for account {name} ({reason})"
        return session

    # -- access control ---------------------------------------------------------------------

    def tenant_owners(self) -> list[str]:
        """One account per tenant, first tenants first: whose objects the matrix is built of."""
        owners: dict[str, str] = {}
        for account in self.accounts_with():
            if account.tenant and account.tenant not in owners:
                owners[account.tenant] = account.name
        return list(owners.values())

    def tenant_pairs(self) -> list[tuple[str, str]]:
        """(owner, intruder) for each of the first two tenants' owners and every account of
        another tenant, the lower-privilege ones included; the other owner comes first."""
        owners = self.tenant_owners()[:2]
        if len(owners) < 2:
            return []

        pairs = []
        for owner in owners:
            tenant = self.account(owner).tenant
            others = [a.name for a in self.accounts_with() if a.tenant and a.tenant != tenant]
            others.sort(key=lambda name: name not in owners)
            pairs += [(owner, intruder) for intruder in others]
        return pairs

    async def access_operations(self) -> tuple[list[openapi_spec.Operation], str]:
        """Every operation the access-control checks may call: OpenAPI, HAR and config."""
        document, source = await self.openapi()
        found = openapi_spec.operations(document) if document else []
        har = self.config.target.har
        if har:
            try:
                found += access.har_operations(self.config_dir / har)
                source += f"; HAR {har}"
            except (OSError, ValueError) as error:
                source += f"; HAR {har} unreadable: {error}"
        skip = set(self.config.authorization.skip)
        unique = {op.label: op for op in found if op.label not in skip}
        return list(unique.values()), source

    async def inventory(self) -> access.Inventory:
        result: access.Inventory = await self._inventory.get()
        return result

    async def _build_inventory(self) -> access.Inventory:
        operations, source = await self.access_operations()
        inventory = access.Inventory(access.resources(operations))
        if not inventory.resources:
            inventory.problems.append(f"no object endpoints found ({source})")
            return inventory

        templates = self.config.authorization.create
        for name in self.tenant_owners()[:2]:
            session = await self.session(name)
            if session.error:
                inventory.problems.append(session.error)
                continue
            created = []
            if templates and self.has("active"):
                created = await access.create_objects(
                    session, templates, inventory.resources, self.url, fill
                )
                inventory.created += created
            for resource in inventory.resources:
                owned = await access.harvest(session, resource, self.url, created=created)
                inventory.objects.setdefault(name, []).extend(owned)
        self._settle_shared_objects(inventory)
        return inventory

    def _settle_shared_objects(self, inventory: access.Inventory) -> None:
        """An object both tenants harvested (a list that leaks) belongs to the tenant its own
        record names; when the record names none, it belongs to neither, since a wrong owner
        would turn the matrix around."""
        owners = self.tenant_owners()[:2]
        if len(owners) < 2:
            return
        keys = [{(o.resource, o.object_id) for o in inventory.owned_by(n)} for n in owners]
        shared = keys[0] & keys[1]
        for name in owners:
            account = self.account(name)
            names = {account.tenant, account.tenant_id} - {None}
            inventory.objects[name] = [
                o
                for o in inventory.owned_by(name)
                if (o.resource, o.object_id) not in shared
                or o.created_by_scan
                or (isinstance(o.baseline, dict) and str(access.tenant_of(o.baseline)) in names)
            ]

    async def _remove_created(self) -> None:
        """Delete what the scan created, as its owner; never anything else.

        Cleanup is never starved by the request budget: it gets what it needs on top, since it
        only removes the scan's own objects (two requests each at most: a renewal and a DELETE).
        """
        inventory: access.Inventory | None = self._inventory.peek()
        created = inventory.created if inventory else []
        budget = self.http.budget
        budget.total = max(budget.total, budget.spent + 2 * len(created))
        for owned in created:
            path = owned.resource.item(owned.object_id)
            if "DELETE" not in owned.resource.methods:
                log.warning("cannot remove %s that the scan created: no DELETE operation", path)
                continue
            session = await self.session(owned.owner)
            removed = await session.send("DELETE", self.url(path))
            if removed.status is None or (removed.status >= 400 and removed.status != 404):
                reason = removed.error or f"HTTP {removed.status}"
                log.warning("could not remove %s that the scan created: %s", path, reason)

    # -- mail -------------------------------------------------------------------------------

    async def mailbox(self) -> mail.Mailbox | None:
        """The started mailbox of `[mail]`, shared by the checks; None when none is configured."""
        result: mail.Mailbox | None = await self._mailbox.get()
        return result

    async def _open_mailbox(self) -> mail.Mailbox | None:
        box = mail.open_mailbox(self.config.mail, allowed_hosts=self.limits.hosts)
        if box is not None:
            await box.start()
        return box

    async def _collect_tls(self) -> tls.TlsFacts:
        parts = urlsplit(self.base_url)
        port = parts.port or 443
        address = self.config.target.resolve.get(self.host, self.host)
        return await tls.collect(
            self.host,
            port,
            address,
            ca_bundle=self.ca_bundle,
            timeout=self.config.scope.connect_timeout + self.config.scope.read_timeout,
        )

    async def _load_openapi(self) -> tuple[dict[str, Any] | None, str]:
        where = self.config.target.openapi
        if where == "none":
            return None, "OpenAPI disabled in config"
        if where and not where.startswith(("/", "http://", "https://")):
            path = self.config_dir / where
            try:
                return _parse_spec(path.read_text(encoding="utf-8")), str(path)
            except (OSError, ValueError) as error:
                return None, f"{path}: {error}"

        candidates = [where] if where else list(OPENAPI_PATHS)
        reasons = []
        for candidate in candidates:
            url = candidate if candidate.startswith("http") else self.url(candidate)
            response = await self.http.send("GET", url)
            if response.status == 200:
                try:
                    return _parse_spec(response.text), url
                except ValueError as error:
                    reasons.append(f"{url}: {error}")
            elif where:
                reasons.append(f"{url}: {response.error or f'HTTP {response.status}'}")
        return None, "; ".join(reasons) or "no OpenAPI document at the usual paths"

    async def aclose(self) -> None:
        await self._remove_created()
        box: mail.Mailbox | None = self._mailbox.peek()
        if box is not None:
            await box.aclose()
        for probe in self._probes:
            await probe.aclose()
        await self.http.aclose()


def _is_2xx(response: Response) -> bool:
    return response.status is not None and 200 <= response.status < 300


def _parse_spec(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        import yaml

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ValueError(f"neither JSON nor YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise ValueError("not an OpenAPI document (no 'paths' object)")
    if "openapi" not in document and "swagger" not in document:
        raise ValueError("not an OpenAPI document (no 'openapi' or 'swagger' version)")
    return document
