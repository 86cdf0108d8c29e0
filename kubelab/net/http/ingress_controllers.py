"""Ingress controllers as edges: which Ingresses each serves, how it treats ImplementationSpecific paths and
its annotations, the certificate it presents, the headers it adds and what it answers on its own.

Two controllers are played, each from its own documentation:
  ingress-nginx (kubernetes.github.io/ingress-nginx): class "nginx", controller k8s.io/ingress-nginx;
  Traefik (doc.traefik.io/traefik/providers/kubernetes-ingress): class "traefik", traefik.io/ingress-controller.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cached_property

from .ingress import CLASS_ANNOTATION, IngressPath, backend_of, class_of, compile_routes
from .ingress_canary import canary_takes, is_canary
from .match import PathMatch, host_matches, is_wildcard_host, normalize_host
from .model import HttpRequest, RouteDecision
from .tls import FAKE_CERTIFICATE_CN, SIMULATED_NOW, read_tls_secret

__all__ = ["ControllerProfile", "PROFILES", "served_ingresses", "IngressEdge", "NGINX_404"]

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
NGINX_404 = ("<html>\n<head><title>404 Not Found</title></head>\n<body>\n<center><h1>404 Not Found</h1></center>\n"
             "<hr><center>nginx</center>\n</body>\n</html>\n")


@dataclass(frozen=True)
class ControllerProfile:
    """What distinguishes one controller's data plane from another's."""

    name: str                        # "ingress-nginx"
    controller: str                  # IngressClass spec.controller it owns
    class_name: str                  # its IngressClass (and the legacy annotation value it answers to)
    namespace: str
    service: str                     # the Service in front of its pods
    watch_without_class: bool        # serves Ingresses that name no class at all
    implementation_specific: str     # how it matches ImplementationSpecific paths: "StringPrefix" | "Prefix"
    redirects_tls_hosts: bool        # HTTP requests for a TLS host get a 308 to https (ingress-nginx)
    not_found_text: str
    not_found_type: str
    default_certificate: str


PROFILES = {
    # deploy/static/provider/kind/deploy.yaml runs with --watch-ingress-without-class=true; ssl-redirect
    # defaults to true for TLS hosts (308, http-redirect-code); "location /foo" is a string prefix.
    "ingress-nginx": ControllerProfile(
        "ingress-nginx", "k8s.io/ingress-nginx", "nginx", "ingress-nginx", "ingress-nginx-controller",
        True, "StringPrefix", True, NGINX_404, "text/html", FAKE_CERTIFICATE_CN),
    # Traefik's Kubernetes Ingress provider handles Ingresses without a class and treats
    # ImplementationSpecific as PathPrefix (a string prefix); no redirect unless configured.
    "traefik": ControllerProfile(
        "traefik", "traefik.io/ingress-controller", "traefik", "traefik", "traefik",
        True, "StringPrefix", False, "404 page not found\n", "text/plain; charset=utf-8", "TRAEFIK DEFAULT CERT"),
}


def served_ingresses(profile: ControllerProfile, ingresses: list[dict], classes: list[dict]) -> list[tuple[dict, str]]:
    """The Ingresses this controller serves, each with why (IngressClass docs: spec.ingressClassName names an
    IngressClass whose spec.controller is this controller; else the legacy annotation; else no class)."""
    by_name = {c["metadata"]["name"]: c for c in classes}
    out = []
    for ing in ingresses:
        name, source = class_of(ing)
        if name is None:
            if profile.watch_without_class:
                out.append((ing, f"{profile.name} serves Ingresses without a class"))
            continue
        cls = by_name.get(name)
        if cls is not None and (cls.get("spec") or {}).get("controller") == profile.controller:
            out.append((ing, f"{source} {name!r} is IngressClass {name} of controller {profile.controller}"))
        elif cls is None and source.startswith("annotation") and name == profile.class_name:
            out.append((ing, f"{CLASS_ANNOTATION}: {name} is {profile.name}'s class"))
    return out


def why_not_served(profile: ControllerProfile, ingress: dict, classes: list[dict]) -> str:
    """One line: why this controller ignores an Ingress."""
    name, source = class_of(ingress)
    if name is None:
        return "it names no IngressClass and no default class was assigned when it was created"
    cls = next((c for c in classes if c["metadata"]["name"] == name), None)
    if cls is None:
        return f"{source} {name!r} names no IngressClass"
    return f"IngressClass {name} belongs to controller {(cls.get('spec') or {}).get('controller')}, not {profile.controller}"


class IngressEdge:
    """One controller's proxy over the Ingresses it serves; immutable, built once per cluster generation."""

    def __init__(self, profile: ControllerProfile, served: list[dict], secrets: dict[str, dict],
                 ignored: list[tuple[dict, str]] = (), rng: random.Random | None = None):
        self.profile = profile
        self.name = profile.name
        self.served = served
        self.secrets = secrets           # "namespace/name" -> Secret
        self.ignored = list(ignored)     # (Ingress, why this controller does not serve it)
        self.rng = rng or random.Random(0)   # canary weights

    def ignored_for(self, host: str) -> str:
        """Ingresses with a rule for this host that the controller does not serve, and why (the usual
        reason behind an unexpected 404)."""
        notes = []
        for ing, why in self.ignored:
            hosts = [r.get("host") or "" for r in (ing.get("spec") or {}).get("rules") or []]
            if any(host_matches(h.lower(), host) for h in hosts):
                meta = ing.get("metadata") or {}
                notes.append(f"Ingress {meta.get('namespace', 'default')}/{meta.get('name')} has a rule for {host} "
                             f"but is not served: {why}")
        return "; ".join(notes)

    # -------------------------------------------------------------- compiled once
    @cached_property
    def table(self):
        return compile_routes([i for i in self.served if not self._is_canary(i)], self._path_match)

    def _is_canary(self, ingress: dict) -> bool:
        return self.profile.name == "ingress-nginx" and is_canary(ingress)

    @cached_property
    def canaries(self) -> dict:
        """(host, path) -> (backend, "namespace/name", annotations) of the canary Ingress for that main location;
        the oldest canary wins (ingress-nginx: at most one canary per Ingress rule)."""
        out: dict = {}
        canaries = [i for i in self.served if self._is_canary(i)]
        for ing in sorted(canaries, key=lambda i: (i["metadata"].get("creationTimestamp", ""),
                                                   i["metadata"].get("namespace", "default"), i["metadata"]["name"])):
            meta = ing["metadata"]
            ns = meta.get("namespace", "default")
            for rule in (ing.get("spec") or {}).get("rules") or []:
                for p in ((rule.get("http") or {}).get("paths")) or []:
                    key = ((rule.get("host") or "").lower(), p.get("path") or "/")
                    out.setdefault(key, (backend_of(p.get("backend"), ns), f"{ns}/{meta['name']}",
                                         meta.get("annotations") or {}))
        return out

    @cached_property
    def regex_hosts(self) -> frozenset:
        """ingress-nginx's enforceRegexModifier: a host (nginx server) where any served location has use-regex, or a
        rewrite-target other than its own path, has every location written as ~* "^<path>", whatever Ingress."""
        if self.profile.name != "ingress-nginx":
            return frozenset()
        hosts = set()
        for ing in self.served:
            annotations = (ing.get("metadata") or {}).get("annotations") or {}
            use_regex = annotations.get(NGINX_PREFIX + "use-regex") == "true"
            target = annotations.get(NGINX_PREFIX + "rewrite-target")
            for rule in (ing.get("spec") or {}).get("rules") or []:
                paths = ((rule.get("http") or {}).get("paths")) or []
                if any(use_regex or (target and target != (p.get("path") or "/")) for p in paths):
                    hosts.add((rule.get("host") or "").lower())
        return frozenset(hosts)

    def _path_match(self, path_type: str, value: str, ingress: dict, host: str = "") -> PathMatch:
        """Exact and Prefix as the API defines them; ImplementationSpecific as this controller does; on an
        ingress-nginx host with use-regex or rewrite-target anywhere, every path (Exact too) is a case-insensitive
        regex anchored at the start (buildLocation: location ~* "^<path>")."""
        if host in self.regex_hosts:
            return PathMatch("Regex", value or "/", case_insensitive=True)
        if path_type == "Exact":
            return PathMatch("Exact", value)
        if path_type == "Prefix":
            return PathMatch("Prefix", value)
        return PathMatch(self.profile.implementation_specific, value or "/")

    @cached_property
    def tls_hosts(self) -> list[tuple[str, str, str]]:
        """(tls host, "namespace/secret", ingress) in precedence order: precise hosts before wildcards, oldest
        Ingress first; a tls entry without hosts covers the hosts of its Ingress's rules."""
        out = []
        for ing in sorted(self.served, key=lambda i: (i["metadata"].get("creationTimestamp", ""),
                                                      i["metadata"].get("namespace"), i["metadata"]["name"])):
            ns = ing["metadata"].get("namespace", "default")
            rule_hosts = [r.get("host") for r in (ing.get("spec") or {}).get("rules") or [] if r.get("host")]
            for tls in (ing.get("spec") or {}).get("tls") or []:
                for host in tls.get("hosts") or rule_hosts:
                    out.append((host.lower(), f"{ns}/{tls.get('secretName')}" if tls.get("secretName") else "",
                                f"{ns}/{ing['metadata']['name']}"))
        out.sort(key=lambda t: 1 if is_wildcard_host(t[0]) else 0)
        return out

    def certificate_for(self, sni: str | None) -> tuple[str | None, str]:
        """IngressTLS docs: the SNI picks the tls entry and its Secret; a host with no usable entry (no entry,
        Secret missing, wrong type, key pair broken, certificate not valid for the name) gets the
        controller's default certificate. Returns ("namespace/secret" | None, why)."""
        if not sni:
            return None, f"no SNI was sent: {self.profile.name} presents its default certificate ({self.profile.default_certificate})"
        for host, secret_key, ingress in self.tls_hosts:
            if not host_matches(host, sni):
                continue
            secret = self.secrets.get(secret_key)
            if not secret_key:
                problem = "the tls entry names no secretName"
            elif secret is None:
                problem = f"Secret {secret_key} does not exist (it must be in the Ingress's namespace)"
            elif secret.get("type") != "kubernetes.io/tls":
                problem = f"Secret {secret_key} is of type {secret.get('type', 'Opaque')}, not kubernetes.io/tls"
            else:
                info = read_tls_secret(secret)
                problem = info.problem
                if problem is None and not info.covers(sni):
                    problem = (f"the certificate in Secret {secret_key} is for {', '.join(info.names) or 'no name'}, "
                               f"not {sni}")
            if problem:
                return None, (f"Ingress {ingress} lists {host} in spec.tls but {problem}: {self.profile.name} presents "
                              f"its default certificate ({self.profile.default_certificate})")
            why = f"SNI {sni} matched spec.tls host {host} of Ingress {ingress}: Secret {secret_key}"
            if info.expired():
                # the proxy still presents it; a verifying client (curl without -k) would refuse it
                why += f" (its certificate expired on {info.not_after}; clients that verify will refuse it)"
            elif info.not_before > SIMULATED_NOW.strftime("%Y-%m-%dT%H:%M:%SZ"):
                why += f" (its certificate is not valid before {info.not_before})"
            return secret_key, why
        return None, (f"no spec.tls entry covers {sni}: {self.profile.name} presents its default certificate "
                      f"({self.profile.default_certificate})")

    def has_tls(self, host: str) -> bool:
        return any(host_matches(h, host) for h, _secret, _ing in self.tls_hosts)

    # -------------------------------------------------------------- one request
    def route(self, request: HttpRequest) -> RouteDecision:
        host = normalize_host(request.host)
        path = request.path_only
        # the controller's Service port 443 speaks TLS and port 80 plain HTTP
        if request.scheme == "http" and request.port == 443:
            return RouteDecision(f"a plain HTTP request reached {self.name}'s HTTPS port 443", status=400,
                                 text=_nginx_page(400, "Bad Request").replace(
                                     "<center><h1>400 Bad Request</h1></center>",
                                     "<center><h1>400 Bad Request</h1></center>\n<center>The plain HTTP request was "
                                     "sent to HTTPS port</center>"))
        if request.scheme == "https" and request.port == 80:
            return RouteDecision(f"TLS handshake failed: {self.name}'s port 80 speaks plain HTTP "
                                 "(curl: wrong version number)", status=0)
        tls_secret, tls_why = (None, "")
        if request.scheme == "https":
            tls_secret, tls_why = self.certificate_for(request.sni)
        match = self.table.lookup(host, path)
        why = match.why + (f"; TLS: {tls_why}" if tls_why else "")
        ann = match.path.annotation if match.path is not None else (lambda k, d=None: d)
        if request.scheme == "http" and self.profile.name == "ingress-nginx" and match.ingress is not None:
            force = ann(NGINX_PREFIX + "force-ssl-redirect") == "true"
            redirect = ann(NGINX_PREFIX + "ssl-redirect", "true") != "false" and self.has_tls(host)
            if force or redirect:
                location = f"https://{host}{request.path}"
                rule = "force-ssl-redirect" if force else "ssl-redirect (the host has TLS)"
                return RouteDecision(f"{why}; {rule}: 308 to https", status=308, location=location,
                                     text=_nginx_page(308, "Permanent Redirect"), tls_secret=tls_secret,
                                     extra={"headers": {"Content-Type": "text/html"}})
        if match.backend is None:
            if match.ingress is not None:
                return RouteDecision(f"{why}; the backend is a resource backend, which {self.name} does not serve",
                                     status=503, text=_nginx_page(503, "Service Temporarily Unavailable"),
                                     tls_secret=tls_secret)
            ignored = self.ignored_for(host)
            why += f" ({ignored})" if ignored else ""
            return RouteDecision(f"{why}: {self.name} answers 404 itself", status=404, text=self.profile.not_found_text,
                                 tls_secret=tls_secret, extra={"headers": {"Content-Type": self.profile.not_found_type}})
        backend, why = self._canary(request, match.path, match.backend, why)
        forwarded = self._forwarded(request, match.path)
        upstream = "service" if ann(NGINX_PREFIX + "service-upstream") == "true" else "endpoints"
        return RouteDecision(why, backend, request=forwarded, tls_secret=tls_secret,
                             extra={"upstream": upstream, "ingress": match.ingress})

    def _canary(self, request: HttpRequest, path: IngressPath | None, backend, why: str):
        """The canary Ingress for the matched main location takes the request when its rules say so."""
        canary = self.canaries.get((path.host, path.path)) if path is not None else None
        if canary is None or canary[0] is None:
            return backend, why
        takes, how = canary_takes(canary[2], request, self.rng)
        if takes:
            return canary[0], f"{why}; canary Ingress {canary[1]} takes it ({how})"
        return backend, f"{why}; canary Ingress {canary[1]} does not ({how})"

    def _forwarded(self, request: HttpRequest, path: IngressPath | None) -> HttpRequest:
        """The request as the proxy sends it upstream: rewritten path, and the X-Forwarded-* headers it adds."""
        new_path = request.path
        if path is not None and path.annotation(NGINX_PREFIX + "rewrite-target") is not None \
                and self.profile.name == "ingress-nginx":
            new_path = rewrite(path.match, path.annotation(NGINX_PREFIX + "rewrite-target"), request.path)
        proto = request.scheme
        port = "443" if proto == "https" else "80"
        client = request.client_ip or ""
        keep = [(k, v) for k, v in request.headers
                if k.lower() not in ("x-forwarded-for", "x-real-ip", "x-forwarded-host", "x-forwarded-port",
                                     "x-forwarded-proto", "x-forwarded-scheme", "x-scheme")]
        if self.profile.name == "ingress-nginx":
            added = [("X-Real-IP", client), ("X-Forwarded-For", client), ("X-Forwarded-Host", request.host),
                     ("X-Forwarded-Port", port), ("X-Forwarded-Proto", proto), ("X-Forwarded-Scheme", proto),
                     ("X-Scheme", proto)]
        else:
            added = [("X-Forwarded-For", client), ("X-Forwarded-Host", request.host), ("X-Forwarded-Port", port),
                     ("X-Forwarded-Proto", proto), ("X-Forwarded-Server", "traefik"), ("X-Real-Ip", client)]
        return request.with_changes(path=new_path, headers=tuple(keep + added))


def rewrite(match: PathMatch, target: str, full_path: str) -> str:
    """nginx.ingress.kubernetes.io/rewrite-target: `rewrite "(?i)<path>" <target> break;` replaces the URI with
    the target, $1..$9 taken from the path regex's groups; nginx appends the original query string."""
    path, _, query = full_path.partition("?")
    m = match.regex().match(path) if match.kind == "Regex" else None
    if m is None:
        new = target
    else:
        new = re.sub(r"\$(\d)", lambda g: m.group(int(g.group(1))) or "" if int(g.group(1)) <= len(m.groups()) else "",
                     target)
    new = new or "/"
    if not new.startswith("/"):
        new = "/" + new
    return new + (f"?{query}" if query else "")


def _nginx_page(status: int, words: str) -> str:
    return (f"<html>\n<head><title>{status} {words}</title></head>\n<body>\n<center><h1>{status} {words}</h1></center>\n"
            "<hr><center>nginx</center>\n</body>\n</html>\n")
