"""The outbound guard: private, loopback and odd addresses are refused, redirects
included, unless allow-listed; connections go to the address that was checked."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from executions.outbound import OutboundBlocked, OutboundUnresolvable, check_url, safe_client


@dataclass
class Server:
    """A real HTTP server in a thread; each request gets the next scripted reply."""

    host: str
    replies: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _serve(host: str) -> Iterator[Server]:
    server = Server(host)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append({"path": self.path, "host": self.headers["Host"]})
            status, headers = server.replies.pop(0) if server.replies else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer((host, 0), Handler)
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    yield from _serve("127.0.0.1")


@pytest.fixture
def other_server() -> Iterator[Server]:
    """A second loopback address: not covered by an allow-list of 127.0.0.1."""
    yield from _serve("127.0.0.2")


@pytest.fixture(autouse=True)
def no_allowlist(settings):
    settings.PRSM_OUTBOUND_ALLOWLIST = []


# --------------------------------------------------------------------------- check_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.2:8080/x",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[ff02::1]/",
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://2130706433/",  # 127.0.0.1 as one decimal number, resolved by the system
    ],
)
def test_private_and_special_addresses_are_refused(url):
    with pytest.raises(OutboundBlocked, match="PRSM_OUTBOUND_ALLOWLIST"):
        check_url(url)


def test_a_name_that_resolves_to_loopback_is_refused():
    with pytest.raises(OutboundBlocked, match=r"localhost \((127\.0\.0\.1|::1)\) is a loopback"):
        check_url("http://localhost:8000/hook")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "ws://example.com/"],
)
def test_only_http_and_https_are_allowed(url):
    with pytest.raises(OutboundBlocked, match="only http and https"):
        check_url(url)


@pytest.mark.parametrize("url", ["http:///path", "not a url", "http://exa mple.com/"])
def test_urls_without_a_usable_host_are_refused(url):
    with pytest.raises(OutboundBlocked):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://93.184.216.34/hook", "http://[2606:4700::1111]/", "http://[64:ff9b::808:808]/"],
)
def test_public_addresses_are_allowed(url):
    check_url(url)


def test_a_name_that_does_not_resolve_is_reported_as_unresolvable():
    with pytest.raises(OutboundUnresolvable):
        check_url("https://no-such-host.invalid/hook")


def test_the_allowlist_accepts_addresses_networks_and_names(settings):
    settings.PRSM_OUTBOUND_ALLOWLIST = ["10.0.0.0/8", "::1", "localhost", "*.lab.internal"]

    check_url("http://10.20.30.40/")
    check_url("http://[::1]:9000/")
    check_url("http://localhost/")
    # Allowed by name: not even resolved (this one does not exist).
    check_url("https://hooks.lab.internal/x")
    with pytest.raises(OutboundBlocked):
        check_url("http://192.168.0.1/")
    with pytest.raises(OutboundBlocked):
        check_url("http://lab.internal.evil/")


def test_the_allowlist_setting_is_read_on_every_check(settings):
    with pytest.raises(OutboundBlocked):
        check_url("http://127.0.0.1/")
    settings.PRSM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    check_url("http://127.0.0.1/")


# --------------------------------------------------------------------------- safe_client


def test_safe_client_reaches_an_allowlisted_server(settings, server):
    settings.PRSM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    with safe_client() as client:
        response = client.get(f"{server.url}/ping")
    assert response.status_code == 200
    assert server.requests == [{"path": "/ping", "host": f"127.0.0.1:{server.port}"}]


def test_safe_client_refuses_before_connecting(server):
    with safe_client() as client, pytest.raises(OutboundBlocked):
        client.get(f"{server.url}/ping")
    assert server.requests == []


def test_a_redirect_from_an_allowed_host_to_a_blocked_one_is_refused(
    settings, server, other_server
):
    settings.PRSM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    target = f"{other_server.url}/internal"
    # Without the guard the redirect reaches the second server: the test means something.
    server.replies.append((302, {"Location": target}))
    assert httpx.get(f"{server.url}/start", follow_redirects=True).status_code == 200
    assert len(other_server.requests) == 1

    server.replies.append((302, {"Location": target}))
    with safe_client() as client, pytest.raises(OutboundBlocked, match=r"127\.0\.0\.2"):
        client.get(f"{server.url}/start")
    assert len(other_server.requests) == 1  # not reached again
    assert server.requests[-1]["path"] == "/start"


def test_redirects_between_allowed_urls_are_followed_up_to_the_limit(settings, server):
    settings.PRSM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    server.replies.extend([(302, {"Location": "/two"}), (301, {"Location": "/three"})])
    with safe_client() as client:
        response = client.get(f"{server.url}/one")
    assert response.status_code == 200
    assert str(response.url) == f"{server.url}/three"
    assert [r["path"] for r in server.requests] == ["/one", "/two", "/three"]

    server.replies.extend([(302, {"Location": "/loop"})] * 10)
    with safe_client() as client, pytest.raises(httpx.TooManyRedirects):
        client.get(f"{server.url}/loop")


def test_a_name_is_resolved_once_and_the_checked_address_is_connected_to(
    settings, server, monkeypatch
):
    """DNS rebinding: the first answer passes the check, later answers point elsewhere.
    The request must go to the address that was checked, with the name kept as Host."""
    settings.PRSM_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)
    lookups: list[str] = []

    def rebinding_dns(host, port, *args, **kwargs):
        if host == "rebind.test":
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    with safe_client() as client:
        response = client.get(f"http://rebind.test:{server.port}/x")

    assert response.status_code == 200
    assert lookups == ["rebind.test"]
    assert server.requests == [{"path": "/x", "host": f"rebind.test:{server.port}"}]
    # A second request checks (and resolves) again: the new answer is refused.
    with safe_client() as client, pytest.raises(OutboundBlocked, match=r"127\.0\.0\.2"):
        client.get(f"http://rebind.test:{server.port}/x")


@pytest.mark.parametrize("option", ["transport", "mounts", "proxy", "trust_env"])
def test_safe_client_refuses_options_that_bypass_the_guard(option):
    with pytest.raises(TypeError, match=option):
        safe_client(**{option: None})


def _self_signed(tmp_path, name: str) -> tuple[str, str]:
    """A certificate for ``name`` (and its key), written as PEM files."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_a_pinned_https_request_verifies_the_certificate_of_the_name(
    settings, monkeypatch, tmp_path
):
    """Connecting to the checked address must not weaken TLS: the server name (SNI)
    and the certificate check stay those of the URL's host."""
    import ssl

    settings.PRSM_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    cert, key = _self_signed(tmp_path, "tls.test")
    server = Server("127.0.0.1")
    seen_sni: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append({"path": self.path, "host": self.headers["Host"]})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    server.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    real_getaddrinfo = socket.getaddrinfo

    def dns(host, port, *args, **kwargs):
        if host in ("tls.test", "other.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    trusted = ssl.create_default_context(cafile=cert)
    try:
        with safe_client(verify=trusted) as client:
            assert client.get(f"https://tls.test:{server.port}/secure").status_code == 200
            # Same address, another name: the certificate does not match it.
            with pytest.raises(httpx.ConnectError, match=r"certificate|hostname"):
                client.get(f"https://other.test:{server.port}/secure")
    finally:
        httpd.shutdown()
        httpd.server_close()

    assert seen_sni[0] == "tls.test"
    assert server.requests == [{"path": "/secure", "host": f"tls.test:{server.port}"}]
