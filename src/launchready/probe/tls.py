"""TLS facts from a real handshake: certificate, chain verification, protocol version.

This module only collects facts; judging them is the tls-domain checks' job.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsFacts:
    host: str
    port: int
    address: str
    error: str | None = None  # the handshake failed for a reason other than trust
    verified: bool = False
    verify_error: str | None = None  # why the chain or the name was not trusted
    version: str | None = None
    subject: str = ""
    issuer: str = ""
    names: tuple[str, ...] = ()
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    legacy_accepted: bool | None = None  # a TLS 1.0/1.1-only handshake succeeded

    def days_left(self, now: dt.datetime | None = None) -> float | None:
        if self.not_after is None:
            return None
        now = now or dt.datetime.now(dt.UTC)
        return (self.not_after - now).total_seconds() / 86400


async def _handshake(
    address: str, port: int, context: ssl.SSLContext, server_name: str, timeout: float
) -> ssl.SSLObject | None:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(address, port, ssl=context, server_hostname=server_name),
        timeout,
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        assert isinstance(ssl_object, ssl.SSLObject)
        return ssl_object
    finally:
        writer.close()
        with contextlib.suppress(TimeoutError, OSError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), 2)
        del reader


def _name(name: x509.Name) -> str:
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common[0].value) if common else name.rfc4514_string()


async def collect(
    host: str, port: int, address: str, *, ca_bundle: str | None, timeout: float
) -> TlsFacts:
    """Handshake twice: once verifying (trust), once not (to read the certificate anyway)."""
    verifying = ssl.create_default_context(cafile=ca_bundle)
    verified, verify_error = True, None
    try:
        await _handshake(address, port, verifying, host, timeout)
    except ssl.SSLCertVerificationError as error:
        verified, verify_error = False, error.verify_message or str(error)
    except (TimeoutError, ssl.SSLError, OSError) as error:
        reason = "timed out" if isinstance(error, TimeoutError) else str(error) or "failed"
        return TlsFacts(host, port, address, error=f"TLS handshake failed: {reason}")

    lenient = ssl.create_default_context()
    lenient.check_hostname = False
    lenient.verify_mode = ssl.CERT_NONE
    try:
        ssl_object = await _handshake(address, port, lenient, host, timeout)
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        version = ssl_object.version() if ssl_object else None
    except (TimeoutError, ssl.SSLError, OSError) as error:
        return TlsFacts(host, port, address, error=f"TLS handshake failed: {error}")
    if not der:
        return TlsFacts(host, port, address, error="the server sent no certificate")

    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = tuple(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = ()
    return TlsFacts(
        host,
        port,
        address,
        verified=verified,
        verify_error=verify_error,
        version=version,
        subject=_name(cert.subject),
        issuer=_name(cert.issuer),
        names=names,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        legacy_accepted=await _accepts_legacy(address, port, host, timeout),
    )


async def _accepts_legacy(address: str, port: int, host: str, timeout: float) -> bool | None:
    """Does the server complete a handshake capped at TLS 1.1? None when we cannot offer it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            # Offering the deprecated versions is the point of this probe.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        return None
    try:
        await _handshake(address, port, context, host, timeout)
    except ssl.SSLError as error:
        # Our own OpenSSL may refuse to offer old versions at all: then we cannot tell.
        return None if "NO_PROTOCOLS_AVAILABLE" in str(error).upper() else False
    except (TimeoutError, OSError):
        return None
    return True
