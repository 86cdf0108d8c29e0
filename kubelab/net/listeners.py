"""Where a pod's containers really listen.

Kubernetes does not enforce `containerPort`: "Not specifying a port here DOES NOT prevent that port from being
exposed. Any port which is listening on the default "0.0.0.0" address inside a container will be accessible
from the network" (the Container API reference). What listens is the program the image runs. So a container of
a well-known image listens where that image listens (each entry below cites its image), whatever its
containerPorts say; a container of an image kubelab does not know follows a simulator convention: it listens
on exactly its declared containerPorts.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from .memo import by_identity
from .objects import key_of

__all__ = ["image_name", "ContainerListener", "container_listeners", "pod_listens", "listening_container",
           "CONVENTION"]

#: how the simulator decides for an image it does not know (said wherever a reason relies on it)
CONVENTION = "simulator convention: image {image}, unknown to kubelab, listens on its declared containerPorts"

Ports = frozenset   # of (port, protocol)


@lru_cache(maxsize=4096)
def image_name(image: str) -> str:
    """The repository path without registry host, tag or digest: "registry.k8s.io/x/y:1.0" -> "x/y"."""
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)
    if ":" in last[-1]:
        image = image.rsplit(":", 1)[0]
    parts = image.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


@dataclass(frozen=True)
class ContainerListener:
    """Where one container listens: `known` when its image is in the registry (then `ports` is where the image
    listens and `what` says so), else the simulator convention (its declared containerPorts)."""

    container: str
    image: str
    ports: Ports
    declared: Ports
    known: bool
    what: str            # "nginx listens on 80/TCP", "busybox runs `sleep infinity`: no server"


# ---------------------------------------------------------------------------- reading a container's command line
def _tokens(container: dict) -> list[str]:
    """command + args as shell words; an argument that is itself a script (`sh -c "..."`) is split too."""
    out: list[str] = []
    for arg in [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]:
        if any(ch in arg for ch in " ;&|\n"):
            lexer = shlex.shlex(arg, posix=True, punctuation_chars=";&|")
            lexer.whitespace_split = True
            try:
                out.extend(lexer)
            except ValueError:          # an unbalanced quote: split on blanks as a fallback
                out.extend(arg.split())
        else:
            out.append(arg)
    return out


def _flag(tokens: list[str], *names: str) -> str | None:
    """The value of a Go/cobra flag given as `--name=v`, `--name v`, `-name=v` or `-name v` (the last wins)."""
    value = None
    for i, tok in enumerate(tokens):
        for name in names:
            for dash in ("--", "-"):
                if tok == f"{dash}{name}" and i + 1 < len(tokens):
                    value = tokens[i + 1]
                elif tok.startswith(f"{dash}{name}="):
                    value = tok.split("=", 1)[1]
    return value


def _bool_flag(tokens: list[str], name: str, default: bool) -> bool:
    value = default
    for tok in tokens:
        if tok in (f"--{name}", f"-{name}"):
            value = True
        elif tok.startswith((f"--{name}=", f"-{name}=")):
            value = tok.split("=", 1)[1].lower() in ("true", "1", "t")
    return value


def _port(text: str | None, default: int | None) -> int | None:
    """A port number from a flag or env value ("8080", ":8080", "0.0.0.0:8080"); default when absent or bad."""
    if text is None:
        return default
    m = re.fullmatch(r"(?:.*:)?(-?\d+)", text.strip())
    return int(m.group(1)) if m else default


def _env(container: dict) -> dict:
    return {e["name"]: str(e["value"]) for e in container.get("env") or [] if "name" in e and "value" in e}


_SEPARATORS = {";", "&", "&&", "|", "||"}


def _shell_servers(tokens: list[str]) -> Ports:
    """Servers a busybox shell command starts: `nc -l -p N` (-u: UDP; also `nc -l N`) and `httpd [-p [IP:]N]`
    (busybox httpd, port 80 by default)."""
    found = set()
    for i, tok in enumerate(tokens):
        program = tok.rsplit("/", 1)[-1]
        if program not in ("nc", "netcat", "httpd"):
            continue
        words = []
        for word in tokens[i + 1:]:
            if word in _SEPARATORS:
                break
            words.append(word)
        if program == "httpd":
            port = 80
            for j, word in enumerate(words):
                if word.startswith("-") and "p" in word[1:] and j + 1 < len(words):
                    port = _port(words[j + 1], 80)
            found.add((port, "TCP"))
            continue
        listen, udp, port, positional = False, False, None, None
        for j, word in enumerate(words):
            if word.startswith("-") and len(word) > 1:
                letters = word[1:]
                listen |= "l" in letters
                udp |= "u" in letters
                if "p" in letters:
                    rest = letters.split("p", 1)[1]
                    port = _port(rest if rest else (words[j + 1] if j + 1 < len(words) else None), None)
            elif word.isdigit():
                positional = int(word)
        port = port if port is not None else positional
        if listen and port:
            found.add((port, "UDP" if udp else "TCP"))
    return frozenset(found)


# ---------------------------------------------------------------------------- the registry of images
@dataclass(frozen=True)
class KnownImage:
    """An image whose listening sockets kubelab knows: `listens(container)` -> (ports, what it listens on), or
    None when this container's configuration is beyond what the entry knows (then the convention applies)."""

    name: str
    matches: Callable[[str], bool]                     # image_name -> bool
    listens: Callable[[dict], "tuple[Ports, str] | None"]


def _fixed(label: str, *ports: tuple[int, str]):
    def listens(container):
        return frozenset(ports), f"{label} listens on {_list(frozenset(ports))}"
    return listens


def _nginx(label: str, port: int):
    """The stock nginx images' default.conf listens on 80 (nginx) or 8080 (nginx-unprivileged); a volume
    mounted over /etc/nginx replaces that configuration, which kubelab does not read."""
    def listens(container):
        for mount in container.get("volumeMounts") or []:
            if str(mount.get("mountPath", "")).rstrip("/").startswith("/etc/nginx"):
                return None
        return frozenset({(port, "TCP")}), f"{label} listens on {port}/TCP"
    return listens


def _agnhost(container: dict):
    """registry.k8s.io/e2e-test-images/agnhost: the subcommand its args name (test/images/agnhost)."""
    tokens = _tokens(container)
    words = [t for t in tokens if not t.rsplit("/", 1)[-1] == "agnhost"]
    sub = next((t for t in words if not t.startswith("-")), None)
    if sub is None:
        # a real agnhost needs a subcommand; a spec naming none is a sketch (the conformance samples write pods
        # that way), so the convention decides
        return None
    if sub == "netexec":
        # netexec: --http-port (8080), --udp-port (8081), --sctp-port (-1: none)
        ports = {(_port(_flag(tokens, "http-port"), 8080), "TCP"), (_port(_flag(tokens, "udp-port"), 8081), "UDP"),
                 (_port(_flag(tokens, "sctp-port"), -1), "SCTP")}
        ports = frozenset(p for p in ports if p[0] > 0)
        return ports, f"agnhost netexec listens on {_list(ports)}"
    if sub == "serve-hostname":
        # serve-hostname: --port (9376); --http (default true) and --tcp over TCP, --udp over UDP
        port = _port(_flag(tokens, "port"), 9376)
        ports = set()
        if _bool_flag(tokens, "http", True) or _bool_flag(tokens, "tcp", False):
            ports.add((port, "TCP"))
        if _bool_flag(tokens, "udp", False):
            ports.add((port, "UDP"))
        return frozenset(ports), f"agnhost serve-hostname listens on {_list(frozenset(ports))}"
    if sub == "test-webserver":
        ports = frozenset({(_port(_flag(tokens, "port"), 80), "TCP")})
        return ports, f"agnhost test-webserver listens on {_list(ports)}"
    if sub in ("liveness", "nettest"):
        return frozenset({(8080, "TCP")}), f"agnhost {sub} listens on 8080/TCP"
    if sub == "porter":
        # porter: one server per SERVE_PORT_<n> / SERVE_TLS_PORT_<n> (TCP) and SERVE_SCTP_PORT_<n> variable
        ports = set()
        for name, value in _env(container).items():
            if name.startswith(("SERVE_PORT_", "SERVE_TLS_PORT_")) and value.isdigit():
                ports.add((int(value), "TCP"))
            elif name.startswith("SERVE_SCTP_PORT_") and value.isdigit():
                ports.add((int(value), "SCTP"))
        return frozenset(ports), f"agnhost porter listens on {_list(frozenset(ports))}"
    if sub in ("pause", "connect", "dns-suffix", "dns-server-list", "etc-hosts", "mounttest", "logs-generator"):
        return frozenset(), f"agnhost {sub} runs no server"
    return None


def _go_httpbin(container: dict):
    """mccutchen/go-httpbin: -port flag, else the PORT environment variable, else 8080."""
    port = _port(_flag(_tokens(container), "port"), None) or _port(_env(container).get("PORT"), 8080)
    return frozenset({(port, "TCP")}), f"go-httpbin listens on {port}/TCP"


def _echo_basic(container: dict):
    """gateway-api conformance/echo-basic: HTTP on $HTTP_PORT (3000), h2c on $H2C_PORT (3001), and HTTPS on
    $HTTPS_PORT (8443) only when a TLS certificate and key are given."""
    env = _env(container)
    names = {e.get("name") for e in container.get("env") or []}
    ports = {(_port(env.get("HTTP_PORT"), 3000), "TCP"), (_port(env.get("H2C_PORT"), 3001), "TCP")}
    if {"TLS_SERVER_CERT", "TLS_SERVER_PRIVKEY"} <= names or {"TLS_CLIENT_CERT", "TLS_CLIENT_KEY"} <= names:
        ports.add((_port(env.get("HTTPS_PORT"), 8443), "TCP"))
    return frozenset(ports), f"echo-basic listens on {_list(frozenset(ports))}"


def _shell_image(label: str):
    """An image with a shell and no server of its own: it listens only where its command starts one."""
    def listens(container):
        tokens = _tokens(container)
        ports = _shell_servers(tokens)
        if ports:
            return ports, f"{label}'s command starts a server on {_list(ports)}"
        command = " ".join(tokens) or "its default command"
        return frozenset(), f"{label} runs `{command}`, which starts no server"
    return listens


def _exporter(label: str, default: int):
    """A Prometheus exporter (prometheus/exporter-toolkit): --web.listen-address, ":<its default port>"."""
    def listens(container):
        port = _port(_flag(_tokens(container), "web.listen-address"), default)
        return frozenset({(port, "TCP")}), f"{label} listens on {port}/TCP"
    return listens


def _istio_proxy(container: dict):
    """istio/proxyv2 as `proxy sidecar`: Istio's "Ports used by Istio" (outbound 15001, inbound 15006, merged
    metrics 15020, health 15021, Envoy metrics 15090; admin 15000 and DNS 15053 bind localhost only). As
    `proxy router` (a gateway) its listeners come from Gateway objects, which kubelab does not read here."""
    tokens = _tokens(container)
    if "router" in tokens or "istio-iptables" in tokens:
        return None
    ports = frozenset({(15001, "TCP"), (15006, "TCP"), (15020, "TCP"), (15021, "TCP"), (15090, "TCP")})
    return ports, f"istio-proxy listens on {_list(ports)}"


def _postgres(container: dict):
    """postgres: the server's -p option or `-c port=N` (the image's entrypoint passes args to postgres), else
    PGPORT, else 5432."""
    tokens = _tokens(container)
    port = _port(_env(container).get("PGPORT"), 5432)
    for i, tok in enumerate(tokens[:-1]):
        if tok == "-p":
            port = _port(tokens[i + 1], port)
        elif tok == "-c" and tokens[i + 1].startswith("port="):
            port = _port(tokens[i + 1][5:], port)
    return frozenset({(port, "TCP")}), f"postgres listens on {port}/TCP"


def _named(*names: str) -> Callable[[str], bool]:
    """Exactly these repositories (an official image's "library/" is already gone): bitnami/nginx, say, is
    another image that listens elsewhere."""
    return lambda name: name in names


KNOWN_IMAGES: tuple[KnownImage, ...] = (
    KnownImage("nginx", _named("nginx"), _nginx("nginx", 80)),
    KnownImage("nginx-unprivileged", _named("nginxinc/nginx-unprivileged"), _nginx("nginx-unprivileged", 8080)),
    KnownImage("agnhost", lambda n: n.endswith("agnhost"), _agnhost),
    KnownImage("httpbin", _named("kennethreitz/httpbin", "httpbin"), _fixed("httpbin (gunicorn)", (80, "TCP"))),
    KnownImage("go-httpbin", lambda n: n.endswith("go-httpbin"), _go_httpbin),
    KnownImage("echo-basic", lambda n: n.endswith("echo-basic"), _echo_basic),
    # echoserver (test/images/echoserver, the "Using Source IP" tutorial's image): nginx on 8080 (and 8443 TLS)
    KnownImage("echoserver", lambda n: n.endswith("echoserver"),
               _fixed("echoserver", (8080, "TCP"), (8443, "TCP"))),
    KnownImage("istio helloworld", lambda n: "examples-helloworld-" in n, _fixed("helloworld", (5000, "TCP"))),
    KnownImage("istio bookinfo", lambda n: "examples-bookinfo-" in n, _fixed("bookinfo", (9080, "TCP"))),
    KnownImage("redis", _named("redis"), _fixed("redis", (6379, "TCP"))),
    KnownImage("postgres", _named("postgres"), _postgres),
    KnownImage("mysql", _named("mysql"), _fixed("mysql", (3306, "TCP"), (33060, "TCP"))),
    # kubeadm's Corefile: dns on 53, health on 8080, ready on 8181, prometheus metrics on 9153
    KnownImage("coredns", lambda n: n.endswith("coredns"),
               _fixed("CoreDNS", (53, "UDP"), (53, "TCP"), (8080, "TCP"), (8181, "TCP"), (9153, "TCP"))),
    KnownImage("node-exporter", lambda n: n.endswith("node-exporter"), _exporter("node-exporter", 9100)),
    KnownImage("postgres-exporter", lambda n: n.endswith("postgres-exporter"), _exporter("postgres-exporter", 9187)),
    KnownImage("istio proxy", lambda n: n.endswith("istio/proxyv2"), _istio_proxy),
    # linkerd-proxy: inbound 4143 and admin 4191 (outbound 4140 binds localhost only)
    KnownImage("linkerd proxy", lambda n: n.endswith("linkerd/proxy"),
               _fixed("linkerd-proxy", (4143, "TCP"), (4191, "TCP"))),
    KnownImage("busybox", _named("busybox"), _shell_image("busybox")),
    KnownImage("curl", _named("curlimages/curl"), _shell_image("curl")),
)


def _list(ports) -> str:
    return ", ".join(f"{p}/{proto}" for p, proto in sorted(ports, key=lambda x: (x[0], x[1]))) or "nothing"


# ---------------------------------------------------------------------------- a pod's listeners
def _declared(container: dict) -> Ports:
    return frozenset((p.get("containerPort"), p.get("protocol", "TCP")) for p in container.get("ports") or [])


def _listener(container: dict) -> ContainerListener:
    image = str(container.get("image") or "")
    name = image_name(image)
    declared = _declared(container)
    for entry in KNOWN_IMAGES:
        if entry.matches(name):
            known = entry.listens(container)
            if known is not None:
                return ContainerListener(str(container.get("name")), image, known[0], declared, True, known[1])
            break
    return ContainerListener(str(container.get("name")), image, declared, declared, False,
                             CONVENTION.format(image=image or "(none)"))


@lru_cache(maxsize=8192)
def _listeners_of(spec_key: str) -> tuple[ContainerListener, ...]:
    return tuple(_listener(c) for c in json.loads(spec_key))


_BY_POD: dict = {}   # stored pods are replaced, never mutated (kubelab.net.memo): one lookup per known pod


def container_listeners(pod: dict) -> tuple[ContainerListener, ...]:
    """Every running container of the pod (and every native sidecar: an init container with restartPolicy
    Always), with where it listens; cached per container spec, so a probe costs one lookup."""
    return by_identity(_BY_POD, (pod,), None, _container_listeners, pod)


def _container_listeners(pod: dict) -> tuple[ContainerListener, ...]:
    spec = pod.get("spec") or {}
    running = list(spec.get("containers") or []) + [c for c in spec.get("initContainers") or []
                                                    if c.get("restartPolicy") == "Always"]
    keep = ("name", "image", "command", "args", "env", "ports", "volumeMounts")
    return _listeners_of(json.dumps([{k: c.get(k) for k in keep} for c in running], sort_keys=True))


def listening_container(pod: dict, port: int, protocol: str = "TCP") -> ContainerListener | None:
    """The container whose process listens on port/protocol (the containers share one network namespace)."""
    return next((c for c in container_listeners(pod) if (port, protocol) in c.ports), None)


def pod_listens(pod: dict, port: int, protocol: str) -> tuple[bool, str]:
    """Does a process in the pod listen on port/protocol, and why (Kubernetes does not enforce containerPort:
    a known image listens where it listens; an unknown one, by simulator convention, on its containerPorts)."""
    key = key_of(pod)
    listeners = container_listeners(pod)
    hit = next((c for c in listeners if (port, protocol) in c.ports), None)
    if hit is not None:
        return True, f"pod {key} listens on {port}/{protocol} ({hit.what})"
    why = []
    for c in listeners:
        if not c.known:
            why.append(f"{c.what}: {_list(c.declared) if c.declared else 'it declares none'}")
        elif (port, protocol) in c.declared:
            why.append(f"{c.what}; containerPort {port} is only documentation: Kubernetes does not enforce "
                       "containerPort")
        else:
            why.append(c.what)
    return False, f"pod {key} does not listen on {port}/{protocol} ({'; '.join(why) or 'it has no containers'})"
