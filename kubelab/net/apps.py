"""What well-known container images answer over HTTP, one entry per image, so pods answer as their images do.

Each entry cites the image's own documentation or source. `answer()` picks the entry for the container that
listens on the port and returns an AppAnswer; images the registry does not know answer with kubelab's echo
(who served, method, path, client address, headers), a convention of the simulator. Lessons that need to see
the client address or which pod answered run registry.k8s.io/echoserver:1.10, as the Kubernetes docs do.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

from .listeners import image_name, listening_container
from .memo import by_identity
from .objects import key_of, name_of, namespace_of

__all__ = ["AppRequest", "AppAnswer", "App", "register", "app_for", "answer", "registered"]


@dataclass(frozen=True)
class AppRequest:
    """A request as the server process receives it."""

    method: str
    host: str
    path: str                                     # with query
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    client_ip: str = ""
    port: int = 80
    sni: str | None = None                        # when the server itself terminated TLS
    legacy: bool = False                          # a direct request from lab.http (no edge or proxy on the way)
    call: Callable | None = field(default=None, compare=False)   # outbound HTTP from this pod (apps that call
                                                  # others): call(url, method, headers, timeout_ms) -> CallResult
    caller_headers: tuple = ()                    # with legacy: the caller's own headers (kubelab's echo shows them)

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path or "/"

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.path).query, keep_blank_values=True)


@dataclass(frozen=True)
class AppAnswer:
    status: int
    text: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    delay_ms: int = 0                             # how long the server took (simulated time)
    app: str = ""                                 # which registry entry answered


@dataclass(frozen=True)
class App:
    """One image: which image references it covers and how it answers."""

    name: str
    matches: Callable[[str, dict], bool]          # (image, container) -> bool
    serve: Callable[[dict, dict, AppRequest], AppAnswer]   # (pod, container, request) -> answer


_REGISTRY: list[App] = []


def register(app: App) -> App:
    """Add an image's behaviour (later entries are tried first, so a specific entry can refine one)."""
    _REGISTRY.insert(0, app)
    return app


def registered() -> list[str]:
    return [a.name for a in _REGISTRY]


_image_name = image_name


def _container_for(pod: dict, port: int) -> dict | None:
    """The container whose process listens on TCP `port` (see listeners), else the first container."""
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    listener = listening_container(pod, port, "TCP")
    if listener is not None:
        return next(c for c in containers if str(c.get("name")) == listener.container)
    return (spec.get("containers") or [None])[0]


_APP_BY_POD: dict = {}   # stored pods are replaced, never mutated (kubelab.net.memo)


def app_for(pod: dict, port: int) -> tuple[App, dict]:
    """The registry entry for the container that listens on `port` (the default echo when none matches)."""
    return by_identity(_APP_BY_POD, (pod,), port, _app_for, pod, port)


def _app_for(pod: dict, port: int) -> tuple[App, dict]:
    container = _container_for(pod, port) or {}
    return app_of_container(container), container


def app_of_container(container: dict) -> App:
    """The registry entry for a container's image (the default echo when none matches)."""
    image = str(container.get("image") or "")
    return next((app for app in _REGISTRY if app.matches(image, container)), DEFAULT_ECHO)


def answer(pod: dict, request: AppRequest) -> AppAnswer:
    """What the pod's process answers to `request` on request.port."""
    app, container = app_for(pod, request.port)
    out = app.serve(pod, container, request)
    return out if out.app else AppAnswer(out.status, out.text, out.headers, out.delay_ms, app.name)


def _json(obj, indent=None) -> str:
    return json.dumps(obj, indent=indent, sort_keys=True)


def _canonical(name: str) -> str:
    """Go's textproto.CanonicalMIMEHeaderKey: "x-echo-set-header" -> "X-Echo-Set-Header"."""
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


def _go_duration_ms(text: str) -> int | None:
    """time.ParseDuration for the units echo-basic's ?delay= sees in practice (ns, us, ms, s, m, h)."""
    units = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1, "s": 1000, "m": 60000, "h": 3600000}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return int(sum(float(n) * units[u] for n, u in parts))


def _env(pod: dict, container: dict) -> dict:
    """The container's env with literal values and the downward API's metadata fields resolved."""
    out = {}
    for e in container.get("env") or []:
        if "value" in e:
            out[e["name"]] = str(e["value"])
        ref = ((e.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        if ref == "metadata.name":
            out[e["name"]] = name_of(pod)
        elif ref == "metadata.namespace":
            out[e["name"]] = namespace_of(pod)
        elif ref == "spec.nodeName":
            out[e["name"]] = (pod.get("spec") or {}).get("nodeName", "")
        elif ref == "status.podIP":
            out[e["name"]] = (pod.get("status") or {}).get("podIP", "")
    return out


# ---------------------------------------------------------------------------- kubelab's echo (the default)
def _default_echo(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """kubelab's echo: who served, method, path (no query), the client address and the request's headers."""
    headers = dict(sorted(req.caller_headers)) if req.legacy else \
        dict(sorted((k, v) for k, v in req.headers if k.lower() != "host"))
    body = _json({"served_by": f"pod {key_of(pod)}", "method": req.method, "path": req.path_only,
                  "client_ip": req.client_ip, "headers": headers})
    return AppAnswer(200, body, (("Content-Type", "application/json"),), app="kubelab echo")


DEFAULT_ECHO = App("kubelab echo", lambda image, c: True, _default_echo)


# ---------------------------------------------------------------------------- Gateway API echo-basic
def _echo_basic(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """sigs.k8s.io/gateway-api conformance/echo-basic: /health -> OK, /status/NNN -> NNN, else the request as
    JSON (path, host, method, proto, headers, namespace/ingress/service/pod from env); ?delay=<duration>;
    X-Echo-Set-Header "Name: value, ..." sets response headers."""
    path = req.path_only
    if path == "/health":
        return AppAnswer(200, "OK")
    if path.startswith("/status/"):
        m = re.fullmatch(r"/status/(\d\d\d)", req.path)
        return AppAnswer(int(m.group(1)) if m else 400)
    delay = next((v for k, v in req.query if k == "delay"), None)
    delay_ms = 0
    if delay:
        parsed = _go_duration_ms(delay)
        if parsed is None:
            return AppAnswer(500, _json({"message": f'time: invalid duration "{delay}"'}),
                             (("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")))
        delay_ms = parsed
    env = _env(pod, container)
    headers: dict[str, list[str]] = {}
    for k, v in req.headers:
        if k.lower() != "host":
            headers.setdefault(_canonical(k), []).append(v)
    body = {"path": req.path, "host": req.host, "method": req.method, "proto": "HTTP/1.1",
            "headers": dict(sorted(headers.items())),
            "namespace": env.get("NAMESPACE", ""), "ingress": env.get("INGRESS_NAME", ""),
            "service": env.get("SERVICE_NAME", ""), "pod": env.get("POD_NAME", ""), "sni": ""}
    out_headers: list[tuple[str, str]] = []
    for value in headers.get("X-Echo-Set-Header", []):
        for kv in value.split(","):
            name, _, val = kv.strip().partition(":")
            existing = next((i for i, (n, _) in enumerate(out_headers) if n == name), None)
            if existing is None:
                out_headers.append((name, val.strip()))   # a client reads the value without its leading space
            else:
                out_headers[existing] = (name, out_headers[existing][1] + "," + val.strip())
    out_headers += [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")]
    # Go's json.MarshalIndent(v, "", " ") keeps the struct's field order and sorts map keys
    return AppAnswer(200, json.dumps(body, indent=1), tuple(out_headers), delay_ms)


register(App("gateway-api echo-basic", lambda image, c: _image_name(image).endswith("gateway-api/echo-basic")
             or _image_name(image).endswith("/echo-basic"), _echo_basic))


# ---------------------------------------------------------------------------- agnhost
def _agnhost(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """registry.k8s.io/e2e-test-images/agnhost: `serve-hostname` answers the pod's hostname on every path;
    `netexec` answers /hostname, /clientip ("ip:port"), /echo?msg=, /healthz, /header?key=, / (time)."""
    args = [str(a) for a in (container.get("args") or []) + (container.get("command") or [])]
    hostname = (pod.get("spec") or {}).get("hostname") or name_of(pod)
    if "serve-hostname" in args:
        return AppAnswer(200, hostname)
    if "netexec" not in args:
        return _default_echo(pod, container, req)
    path, query = req.path_only, dict(req.query)
    if path == "/hostname":
        return AppAnswer(200, hostname)
    if path == "/clientip":
        return AppAnswer(200, f"{req.client_ip}:40000")
    if path == "/echo":
        code = int(query["code"]) if query.get("code", "").isdigit() else 200
        return AppAnswer(code, query.get("msg", ""))
    if path == "/healthz":
        return AppAnswer(200, "")
    if path == "/header":
        return AppAnswer(200, req.header(query.get("key", "")) or "")
    if path == "/":
        return AppAnswer(200, "NOW: 2026-01-01 00:00:00 +0000 UTC")
    return AppAnswer(404, "404 page not found\n", (("Content-Type", "text/plain; charset=utf-8"),))


register(App("agnhost", lambda image, c: _image_name(image).endswith("agnhost"), _agnhost))


# ---------------------------------------------------------------------------- httpbin
def _httpbin(pod: dict, container: dict, req: AppRequest, *, go: bool) -> AppAnswer:
    """httpbin (mccutchen/go-httpbin v2, kennethreitz/httpbin): /status/<code>, /delay/<s> (at most 10 s),
    /headers, /ip, /get, /post, /put, /patch, /delete, /anything; go-httpbin writes header and arg values as lists."""
    path = req.path_only
    hdrs: dict = {}
    for k, v in req.headers:
        if go:
            hdrs.setdefault(_canonical(k), []).append(v)
        else:
            hdrs[_canonical(k)] = v if _canonical(k) not in hdrs else hdrs[_canonical(k)] + "," + v
    args: dict = {}
    for k, v in req.query:
        if go:
            args.setdefault(k, []).append(v)
        else:
            args[k] = v
    url = f"http://{req.host}{req.path}"
    js = (("Content-Type", "application/json; charset=utf-8"),)
    m = re.fullmatch(r"/status/(\d{3})", path)
    if m:
        return AppAnswer(int(m.group(1)), "")
    if path.startswith("/status/"):
        return AppAnswer(400, "Invalid status")
    m = re.fullmatch(r"/delay/(\d+(?:\.\d+)?)", path)
    if m:
        delay = min(float(m.group(1)), 10.0)
        body = {"args": args, "headers": hdrs, "origin": req.client_ip, "url": url}
        if go:
            body["method"] = req.method
        return AppAnswer(200, _json(body, 2), js, int(delay * 1000))
    if path == "/headers":
        return AppAnswer(200, _json({"headers": hdrs}, 2), js)
    if path == "/ip":
        return AppAnswer(200, _json({"origin": req.client_ip}, 2), js)
    if path == "/get":
        if req.method not in ("GET", "HEAD"):
            return AppAnswer(405, "Method Not Allowed")
        body = {"args": args, "headers": hdrs, "origin": req.client_ip, "url": url}
        if go:
            body["method"] = req.method
        return AppAnswer(200, _json(body, 2), js)
    if path in _HTTPBIN_METHOD_PATHS or path == "/anything" or path.startswith("/anything/"):
        # /post, /put, /patch, /delete answer their own method only; /anything[/...] answers any method
        if path in _HTTPBIN_METHOD_PATHS and req.method != _HTTPBIN_METHOD_PATHS[path]:
            return AppAnswer(405, "Method Not Allowed")
        body = {"args": args, "data": req.body or "", "headers": hdrs, "origin": req.client_ip, "url": url}
        if go:
            body["method"] = req.method
        return AppAnswer(200, _json(body, 2), js)
    if path == "/":
        return AppAnswer(200, "<!DOCTYPE html>\n<title>httpbin</title>\n", (("Content-Type", "text/html; charset=utf-8"),))
    return AppAnswer(404, "Not Found", (("Content-Type", "text/plain; charset=utf-8"),))


_HTTPBIN_METHOD_PATHS = {"/post": "POST", "/put": "PUT", "/patch": "PATCH", "/delete": "DELETE"}


register(App("kennethreitz/httpbin", lambda image, c: _image_name(image) in ("kennethreitz/httpbin", "httpbin"),
             lambda pod, c, req: _httpbin(pod, c, req, go=False)))
register(App("mccutchen/go-httpbin", lambda image, c: _image_name(image) in ("mccutchen/go-httpbin",)
             or _image_name(image).endswith("/go-httpbin"),
             lambda pod, c, req: _httpbin(pod, c, req, go=True)))


# ---------------------------------------------------------------------------- nginx
NGINX_INDEX = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

NGINX_404 = """<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


def _nginx(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """nginx's stock image: /usr/share/nginx/html holds index.html only, so / and /index.html answer the
    welcome page and any other path 404."""
    if req.path_only in ("/", "/index.html"):
        return AppAnswer(200, NGINX_INDEX, (("Content-Type", "text/html"), ("Server", "nginx")))
    return AppAnswer(404, NGINX_404, (("Content-Type", "text/html"), ("Server", "nginx")))


register(App("nginx", lambda image, c: _image_name(image) in ("nginx", "nginxinc/nginx-unprivileged"), _nginx))


# ---------------------------------------------------------------------------- echoserver
def _echoserver(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """registry.k8s.io/echoserver:1.10 (the "Using Source IP" tutorial's image: nginx 1.13.3 with a Lua page on
    8080, and TLS on 8443): every path answers 200 text/plain: Hostname, Pod Information (NODE_NAME, POD_NAME,
    POD_NAMESPACE, POD_IP when set), Server values, Request Information (client_address=...), Request Headers
    and Request Body."""
    env = _env(pod, container)
    hostname = (pod.get("spec") or {}).get("hostname") or name_of(pod)
    pod_info = [f"\t{label}:\t{env[var]}" for label, var in
                (("node name", "NODE_NAME"), ("pod name", "POD_NAME"), ("pod namespace", "POD_NAMESPACE"),
                 ("pod IP", "POD_IP")) if var in env] or ["\t-no pod information available-"]
    split = urlsplit(req.path)
    host = req.header("Host") or req.host
    # nginx's $host: the Host header without its port; request_uri names the port nginx listens on
    host_only = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") and "]:" in host \
        else host
    headers = sorted((k.lower(), v) for k, v in req.headers)
    scheme = "https" if req.port == 8443 else "http"          # its nginx.conf: 8080 plain, 8443 ssl
    lines = [f"Hostname: {hostname}", "", "Pod Information:", *pod_info, "", "Server values:",
             "\tserver_version=nginx: 1.13.3 - lua: 10008", "", "Request Information:",
             f"\tclient_address={req.client_ip}", f"\tmethod={req.method}", f"\treal path={split.path or '/'}",
             f"\tquery={split.query}", "\trequest_version=1.1", f"\trequest_scheme={scheme}",
             f"\trequest_uri={scheme}://{host_only}:{req.port}{req.path}", "", "Request Headers:",
             *[f"\t{k}={v}" for k, v in headers], "", "Request Body:",
             f"\t{req.body}" if req.body else "\t-no body in request-", ""]
    return AppAnswer(200, "\n\n" + "\n".join(lines) + "\n",
                     (("Content-Type", "text/plain"), ("Server", "echoserver")))


register(App("echoserver", lambda image, c: _image_name(image).endswith("echoserver"), _echoserver))


# ---------------------------------------------------------------------------- the mesh docs' sample apps
@dataclass(frozen=True)
class CallResult:
    """What an app's own HTTP client got from an outbound call: status 0 when it raised (timeout, refused)."""

    status: int
    text: str = ""
    elapsed_ms: float = 0
    error: str = ""

    def json(self):
        try:
            return json.loads(self.text)
        except ValueError:
            return {}


def _outbound(req: AppRequest, url: str, headers: dict, timeout_ms: float) -> CallResult:
    """Outbound call through whatever the pod's network offers (a sidecar when there is one)."""
    if req.call is None:
        return CallResult(0, error="this request path gives the app no network for outbound calls")
    return req.call(url, "GET", headers, timeout_ms)


def _helloworld(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """istio samples/helloworld/src/app.py: /hello -> "Hello version: <SERVICE_VERSION>, instance: <HOSTNAME>"
    (the v1/v2 images bake SERVICE_VERSION in); /health -> "Helloworld is healthy"."""
    version = _env(pod, container).get("SERVICE_VERSION") or \
        (re.search(r"helloworld-(v\d+)", str(container.get("image", ""))) or [None, "v1"])[1]
    if req.path_only == "/hello":
        return AppAnswer(200, f"Hello version: {version}, instance: {name_of(pod)}\n",
                         (("Content-Type", "text/html; charset=utf-8"),))
    if req.path_only == "/health":
        return AppAnswer(200, "Helloworld is healthy", (("Content-Type", "text/html; charset=utf-8"),))
    return AppAnswer(404, "<!doctype html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n",
                     (("Content-Type", "text/html; charset=utf-8"),))


register(App("istio helloworld", lambda image, c: "examples-helloworld-" in _image_name(image), _helloworld))


def _bookinfo_version(container: dict) -> str:
    m = re.search(r"examples-bookinfo-[a-z]+-(v[0-9a-z-]+)", str(container.get("image", "")))
    return m.group(1) if m else "v1"


BOOKINFO_DETAILS = {"id": 0, "author": "William Shakespeare", "year": 1595, "type": "paperback", "pages": 200,
                    "publisher": "PublisherA", "language": "English", "ISBN-10": "1234567890",
                    "ISBN-13": "123-1234567890"}
BOOKINFO_DESCRIPTION = ("<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>: "
                        "The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest "
                        "and one of his most farcical comedies, with a major part of the humour coming from "
                        "slapstick and mistaken identity, in addition to puns and word play.")
_SESSION_SECRET = b"kubelab-bookinfo"


def _session_cookie(user: str) -> str:
    """Flask's signed session cookie holding {"user": <name>} (signature simplified, deterministic)."""
    import base64
    import hashlib
    payload = base64.urlsafe_b64encode(json.dumps({"user": user}).encode()).decode().rstrip("=")
    sig = hashlib.sha256(_SESSION_SECRET + payload.encode()).hexdigest()[:27]
    return f"{payload}.{sig}"


def _session_user(req: AppRequest) -> str | None:
    import base64
    import hashlib
    for part in (req.header("cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "session" and "." in value:
            payload, sig = value.rsplit(".", 1)
            if hashlib.sha256(_SESSION_SECRET + payload.encode()).hexdigest()[:27] != sig:
                return None
            try:
                return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("user")
            except ValueError:
                return None
    return None


_TRACE_HEADERS = ("x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled",
                  "x-b3-flags", "x-ot-span-context", "traceparent", "tracestate")


def _bookinfo_forward(req: AppRequest, user: str | None) -> dict:
    """getForwardHeaders: the tracing headers, plus end-user for a signed-in session (an end-user header the
    page received is not forwarded)."""
    received = {k.lower(): v for k, v in reversed(req.headers)}
    headers = {h: received[h] for h in _TRACE_HEADERS if h in received}
    if user:
        headers["end-user"] = user
    return headers


def _star(color: str) -> str:
    return (f'<svg id="glyphicon glyphicon-star" class="w-4 h-4 {color}" fill="currentColor" viewBox="0 0 20 20">'
            f'<path d="M9.049 2.927c.3-.921 1.603-.921 1.902 0l1.07 3.292"/></svg>')


def _productpage_html(user: str | None, details_status: int, details: dict, reviews_status: int,
                      reviews: dict) -> str:
    """templates/productpage.html: the book, its details, and its reviews with stars (coloured by version)."""
    out = ["<!DOCTYPE html>", "<html>", "<head><title>Simple Bookstore App</title></head>", "<body>"]
    out.append(f"<p>{'Signed in as ' + user if user else 'Sign in'}</p>")
    out.append("<h1 class=\"text-3xl\">The Comedy of Errors</h1>")
    out.append(f"<p>{BOOKINFO_DESCRIPTION}</p>")
    out.append("<h4 class=\"text-2xl\">Book Details</h4>")
    if details_status == 200:
        for key in ("type", "pages", "publisher", "language", "ISBN-10", "ISBN-13"):
            out.append(f"<dt>{key}</dt><dd>{details.get(key)}</dd>")
    else:
        out.append("<h4>Error fetching product details!</h4>")
        out.append(f"<p>{details.get('error', '')}</p>")
    out.append("<h4 class=\"text-2xl\">Book Reviews</h4>")
    if reviews_status == 200:
        for review in reviews.get("reviews") or []:
            out.append(f"<blockquote><p>{review.get('text', '')}</p><small>{review.get('reviewer', '')}</small>")
            rating = review.get("rating") or {}
            if rating.get("stars"):
                colour = "text-red-500" if rating.get("color") == "red" else "text-black-500"
                out.append("".join(_star(colour) for _ in range(int(rating["stars"]))))
            elif rating.get("error"):
                out.append(f"<p><i>{rating['error']}</i></p>")
            out.append("</blockquote>")
        out.append(f"<dl><dt>Reviews served by:</dt><dd><u>{reviews.get('podname', '')}</u></dd></dl>")
    else:
        out.append("<h4>Error fetching product reviews!</h4>")
        out.append(f"<p>{reviews.get('error', '')}</p>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _productpage(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """samples/bookinfo/src/productpage/productpage.py: /productpage calls details (timeout 3 s) then reviews
    (timeout 3 s, tried twice — the bug the fault-injection task finds); /login sets the session; /health."""
    html_type = (("Content-Type", "text/html; charset=utf-8"),)
    path = req.path_only
    if path == "/health":
        return AppAnswer(200, "Product page is healthy", html_type)
    if path == "/login" and req.method == "POST":
        values = dict(req.query)
        values.update(dict(parse_qsl(req.body or "", keep_blank_values=True)))
        user = values.get("username", "")
        return AppAnswer(302, "", (("Location", req.header("referer") or "/productpage"),
                                   ("Set-Cookie", f"session={_session_cookie(user)}; HttpOnly; Path=/")))
    if path == "/logout":
        return AppAnswer(302, "", (("Location", req.header("referer") or "/productpage"),
                                   ("Set-Cookie", "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
                                                  "HttpOnly; Path=/")))
    if path in ("/", "/index.html"):
        return AppAnswer(200, "<html><body><h3>Hello! This is a simple bookstore application consisting of three "
                              "services as shown below</h3></body></html>", html_type)
    user = _session_user(req)
    forward = _bookinfo_forward(req, user)
    spent = 0.0
    m = re.fullmatch(r"/api/v1/products/(\d+)(/reviews|/ratings)?", path)
    if path != "/productpage" and not m:
        return AppAnswer(404, "<!doctype html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n", html_type)
    product_id = int(m.group(1)) if m else 0

    def details():
        nonlocal spent
        res = _outbound(req, f"http://details:9080/details/{product_id}", forward, 3000)
        spent += res.elapsed_ms
        if res.status == 200:
            return 200, res.json()
        return res.status or 500, {"error": "Sorry, product details are currently unavailable for this book."}

    def reviews():
        nonlocal spent
        res = CallResult(0)
        for _ in range(2):
            res = _outbound(req, f"http://reviews:9080/reviews/{product_id}", forward, 3000)
            spent += res.elapsed_ms
            if res.status == 200:
                return 200, res.json()
        return res.status or 500, {"error": "Sorry, product reviews are currently unavailable for this book."}

    if m and m.group(2) == "/reviews":
        status, body = reviews()
        return AppAnswer(status, json.dumps(body), (("Content-Type", "application/json"),), int(spent))
    if m and m.group(2) is None:
        status, body = details()
        return AppAnswer(status, json.dumps(body), (("Content-Type", "application/json"),), int(spent))
    if m:
        res = _outbound(req, f"http://ratings:9080/ratings/{product_id}", forward, 3000)
        body = res.json() if res.status == 200 else {"error": "Sorry, product ratings are currently unavailable "
                                                                "for this book."}
        return AppAnswer(res.status or 500, json.dumps(body), (("Content-Type", "application/json"),),
                         int(res.elapsed_ms))
    d_status, d_body = details()
    r_status, r_body = reviews()
    return AppAnswer(200, _productpage_html(user, d_status, d_body, r_status, r_body), html_type, int(spent))


def _details(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """samples/bookinfo/src/details/details.rb: /details/<id> -> the book's details as JSON; /health."""
    m = re.fullmatch(r"/details/(\d+)", req.path_only)
    if req.path_only == "/health":
        return AppAnswer(200, json.dumps({"status": "Details is healthy"}), (("Content-Type", "application/json"),))
    if not m:
        return AppAnswer(404, json.dumps({"error": "please provide numeric product id"}),
                         (("Content-Type", "application/json"),))
    return AppAnswer(200, _details_json(int(m.group(1))), (("Content-Type", "application/json"),))


@lru_cache(maxsize=1024)
def _details_json(product_id: int) -> str:
    """The details of a book as JSON (the same text for the same id: made once)."""
    return json.dumps({**BOOKINFO_DETAILS, "id": product_id})


def _reviews(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """samples/bookinfo/src/reviews (LibertyRestEndpoint.java): v1 shows no ratings; v2 (black) and v3 (red)
    call ratings with a 10 s / 2.5 s timeout, forwarding end-user; podname is the pod's HOSTNAME."""
    version = _bookinfo_version(container)
    js = (("Content-Type", "application/json"),)
    if req.path_only == "/health":
        return AppAnswer(200, json.dumps({"status": "Reviews is healthy"}), js)
    m = re.fullmatch(r"/reviews/(\d+)", req.path_only)
    if not m:
        return AppAnswer(404, "", js)
    color = {"v2": "black", "v3": "red"}.get(version)
    spent = 0.0
    rating_part: dict = {}
    if color:
        received = {k.lower(): v for k, v in reversed(req.headers)}
        forward = {h: received[h] for h in _TRACE_HEADERS + ("end-user", "user-agent") if h in received}
        res = _outbound(req, f"http://ratings:9080/ratings/{m.group(1)}", forward, 10000 if color == "black" else 2500)
        spent = res.elapsed_ms
        if res.status == 200:
            rating_part = {"ok": res.json().get("ratings", {})}
        else:
            rating_part = {"error": "Ratings service is currently unavailable"}
    reviews = []
    texts = [("Reviewer1", "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!", 5),
             ("Reviewer2", "Absolutely fun and entertaining. The play lacks thematic depth when compared to other "
                           "plays by Shakespeare.", 4)]
    for reviewer, text, _stars in texts:
        review = {"reviewer": reviewer, "text": text}
        if color:
            if "ok" in rating_part:
                review["rating"] = {"stars": rating_part["ok"].get(reviewer, -1), "color": color}
            else:
                review["rating"] = {"error": rating_part["error"]}
        reviews.append(review)
    body = {"id": m.group(1), "podname": name_of(pod), "clustername": "null", "reviews": reviews}
    return AppAnswer(200, json.dumps(body), js, int(spent))


def _ratings(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """samples/bookinfo/src/ratings/ratings.js: /ratings/<id> -> {"id": id, "ratings": {Reviewer1: 5,
    Reviewer2: 4}}; /health."""
    js = (("Content-Type", "application/json"),)
    if req.path_only == "/health":
        return AppAnswer(200, json.dumps({"status": "Ratings is healthy"}), js)
    m = re.fullmatch(r"/ratings/(\d+)", req.path_only)
    if not m:
        return AppAnswer(400, json.dumps({"error": "please provide numeric product ID"}), js)
    return AppAnswer(200, _ratings_json(int(m.group(1))), js)


@lru_cache(maxsize=1024)
def _ratings_json(product_id: int) -> str:
    """The ratings of a book as JSON (the same text for the same id: made once)."""
    return json.dumps({"id": product_id, "ratings": {"Reviewer1": 5, "Reviewer2": 4}})


for _service, _serve in (("productpage", _productpage), ("details", _details), ("reviews", _reviews),
                         ("ratings", _ratings)):
    register(App(f"istio bookinfo {_service}",
                 (lambda s: lambda image, c: f"examples-bookinfo-{s}-" in _image_name(image))(_service), _serve))


def _curl(pod: dict, container: dict, req: AppRequest) -> AppAnswer:
    """curlimages/curl runs `sleep infinity`: nothing listens, so a connection that reaches it is refused."""
    return AppAnswer(0, "", app="curlimages/curl")


register(App("curlimages/curl", lambda image, c: _image_name(image) == "curlimages/curl", _curl))
