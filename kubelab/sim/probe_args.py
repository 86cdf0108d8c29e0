"""The arguments of the probes (reach, trace, http, resolve, reachability, ...) checked before use, so a
mistyped call gets a ProbeError naming the argument and the fix instead of a traceback or a wrong answer."""
from __future__ import annotations

import difflib
import ipaddress
from urllib.parse import SplitResult, urlsplit

from ..errors import ProbeError

__all__ = ["check_port", "check_protocol", "check_pod_ref", "check_endpoint", "check_node_name",
           "check_rtype", "check_dns_name", "check_pod_list", "parse_url", "PROTOCOLS", "RR_TYPES"]

PROTOCOLS = ("TCP", "UDP", "SCTP")
# DNS record types a resolver can ask for (IANA DNS parameters, the common ones)
RR_TYPES = ("A", "AAAA", "ANY", "CAA", "CNAME", "DNSKEY", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA",
            "SRV", "SVCB", "TXT")
_POD_FORM = "'namespace/pod' (or 'pod' in the default namespace)"


def _shown(value) -> str:
    return f"{type(value).__name__} {value!r}"


def check_port(port, argument: str = "port") -> int:
    """A TCP/UDP/SCTP port: a whole number 1-65535 (True is not a port, though Python counts it as 1)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ProbeError(f"{argument}={port!r}: use a number from 1 to 65535, e.g. {argument}=80")
    return port


def check_protocol(protocol, argument: str = "protocol") -> str:
    """TCP, UDP or SCTP, the protocols Kubernetes ports carry (ICMP has no ports; HTTP rides on TCP)."""
    text = protocol.upper() if isinstance(protocol, str) else None
    if text not in PROTOCOLS:
        why = " (ping's ICMP has no ports; the cluster's policies and Services speak TCP, UDP and SCTP)" \
            if text == "ICMP" else ""
        raise ProbeError(f"{argument}={protocol!r}: use 'TCP', 'UDP' or 'SCTP'{why}")
    return text


def check_pod_ref(ref, argument: str = "pod") -> tuple[str, str]:
    """'namespace/pod' or 'pod' -> (namespace, name)."""
    if not isinstance(ref, str):
        raise ProbeError(f"{argument}: expected {_POD_FORM}, got {_shown(ref)}")
    parts = ref.split("/")
    if len(parts) > 2 or not all(p.strip() for p in parts):
        raise ProbeError(f"{argument}={ref!r}: expected {_POD_FORM}: one '/' between a namespace and a pod name")
    return ("default", parts[0]) if len(parts) == 1 else (parts[0], parts[1])


def check_endpoint(value, argument: str) -> str:
    """A probe's end: 'namespace/pod', 'node/<name>', an IP or a DNS name, as text."""
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ProbeError(f"{argument}: expected {_POD_FORM}, 'node/<name>', an IP address or a DNS name, "
                         f"got {_shown(value)}")
    return value


def check_node_name(name, argument: str = "node") -> str:
    if not isinstance(name, str) or not name.strip():
        raise ProbeError(f"{argument}: expected a node name such as 'node-1', got {_shown(name)}")
    return name


def check_rtype(rtype, argument: str = "rtype") -> str:
    text = rtype.upper() if isinstance(rtype, str) else None
    if text not in RR_TYPES:
        close = difflib.get_close_matches(str(text or rtype), RR_TYPES, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(RR_TYPES)}"
        raise ProbeError(f"{argument}={rtype!r} is not a DNS record type ({hint})")
    return text


def check_dns_name(name, argument: str = "name") -> str:
    if not isinstance(name, str) or not name.strip(". "):
        raise ProbeError(f"{argument}: expected a DNS name such as 'web' or 'web.default.svc.cluster.local', "
                         f"got {_shown(name)}")
    return name


def check_pod_list(pods, argument: str = "pods") -> list:
    """None (every pod) or a list of pod references; a lone string is one pod, which a list must hold."""
    if pods is None:
        return None
    if isinstance(pods, str):
        raise ProbeError(f"{argument}={pods!r}: expected a list of {_POD_FORM}, e.g. {argument}=[{pods!r}]")
    if not isinstance(pods, (list, tuple)):
        raise ProbeError(f"{argument}: expected a list of {_POD_FORM}, got {_shown(pods)}")
    for i, ref in enumerate(pods):
        check_pod_ref(ref, f"{argument}[{i}]")
    return list(pods)


def parse_url(url) -> tuple[SplitResult, str, int]:
    """An http(s) URL -> (parts, host, port); a URL without a scheme is taken as http://."""
    if not isinstance(url, str) or not url.strip():
        raise ProbeError(f"url: expected a URL such as 'http://web/' or 'web:8080/path', got {_shown(url)}")
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError as exc:
        bare_v6 = url.count(":") > 2 and "[" not in url
        fix = "put an IPv6 address in brackets, e.g. http://[fd00::1]:80/" if bare_v6 else \
            "the port after ':' is a number from 1 to 65535, e.g. http://web:8080/"
        raise ProbeError(f"url={url!r}: {exc} ({fix})") from None
    if parts.scheme not in ("http", "https"):
        raise ProbeError(f"url={url!r}: scheme {parts.scheme!r} is not HTTP (use http:// or https://)")
    if not parts.hostname:
        raise ProbeError(f"url={url!r}: no host (write one, e.g. http://web/ or http://10.96.0.20:80/)")
    if port is not None:
        check_port(port, "url port")
    return parts, parts.hostname, port or (443 if parts.scheme == "https" else 80)
