"""curl and (busybox) wget: an HTTP request from the pod through lab.http, with the tools' error
messages and exit codes (curl: 6 resolve, 7 refused, 22 HTTP error with -f, 28 timeout)."""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from ...errors import KubelabError
from .base import Context, Result, outcome, resolve_host, slow_lookup_note

__all__ = ["curl", "wget"]

CURL_VERSION = "curl/8.11.1"
KERNEL_CONNECT_GIVE_UP_MS = 134000   # Linux gives up a SYN after tcp_syn_retries=6 (about 2 min 14 s)


def _reason_phrase(status: int) -> str:
    return http.client.responses.get(status, "")


class _CurlArgs:
    """The curl options learners use; anything else is an error as curl reports it (exit 2)."""

    def __init__(self, args: list[str]):
        self.silent = self.show_error = self.verbose = self.head = self.include = self.fail = False
        self.output = None
        self.write_out = None
        self.headers: dict[str, str] = {}
        self.method = None
        self.connect_timeout = None
        self.max_time = None
        self.resolve: dict[tuple[str, int], str] = {}
        self.urls: list[str] = []
        self.error = None
        takes_value = {"-o": "output", "--output": "output", "-w": "write_out", "--write-out": "write_out",
                       "-X": "method", "--request": "method", "--connect-timeout": "connect_timeout",
                       "-m": "max_time", "--max-time": "max_time"}
        flags = {"s": "silent", "S": "show_error", "v": "verbose", "I": "head", "i": "include", "f": "fail",
                 "k": None, "L": None}
        i = 0
        while i < len(args):
            a = args[i]
            value = args[i + 1] if i + 1 < len(args) else None
            if a in takes_value:
                if value is None:
                    self.error = f"curl: option {a}: requires parameter"
                    return
                setattr(self, takes_value[a], value)
                i += 2
                continue
            if a in ("-H", "--header"):
                if value is None or ":" not in value:
                    self.error = f"curl: option {a}: requires parameter"
                    return
                k, v = value.split(":", 1)
                self.headers[k.strip()] = v.strip()
                i += 2
                continue
            if a == "--resolve":
                parts = (value or "").split(":", 2)
                if len(parts) != 3:
                    self.error = "curl: option --resolve: is badly used here"
                    return
                self.resolve[(parts[0], int(parts[1]))] = parts[2].strip("[]")
                i += 2
                continue
            if a in ("--silent", "--show-error", "--verbose", "--head", "--include", "--fail", "--insecure",
                     "--location"):
                name = a[2:].replace("show-error", "show_error")
                if name not in ("insecure", "location"):
                    setattr(self, name, True)
            elif a.startswith("-") and not a.startswith("--") and len(a) > 1:
                for j, ch in enumerate(a[1:]):
                    if ch in flags:
                        if flags[ch]:
                            setattr(self, flags[ch], True)
                    elif f"-{ch}" in takes_value and j == len(a) - 2:
                        if value is None:
                            self.error = f"curl: option -{ch}: requires parameter"
                            return
                        setattr(self, takes_value[f"-{ch}"], value)
                        i += 1
                    else:
                        self.error = f"curl: option {a}: is unknown\ncurl: try 'curl --help' for more information"
                        return
            elif a.startswith("--"):
                self.error = f"curl: option {a}: is unknown\ncurl: try 'curl --help' for more information"
                return
            else:
                self.urls.append(a)
            i += 1


def _write_out(fmt: str, status: int, ip: str, port: int) -> str:
    out = fmt.replace("\\n", "\n").replace("\\t", "\t")
    for var, value in (("http_code", f"{status:03d}"), ("response_code", f"{status:03d}"),
                       ("remote_ip", ip), ("remote_port", str(port) if ip else "0")):
        out = out.replace("%{" + var + "}", value)
    return out


def _request(ctx: Context, url: str, resolve: dict, headers: dict, method: str):
    """(response, how the connection ended, host, ip, port) for one URL from the pod, through lab.http
    (Services, Ingress controllers and the apps' own answers); --resolve pins host:port to an address."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    pinned = resolve.get((host, port))
    ip = pinned or resolve_host(ctx, host)
    response = ctx.lab.http(url if "://" in url else f"http://{url}", src=ctx.src, headers=headers or None,
                            method=method, resolve={host: pinned} if pinned else None)
    if response.status == 0:
        return None, outcome(_Failed(response.reason)), host, ip, port
    return response, "ok", host, ip, port


class _Failed:
    """A connection that was not made, in the shape outcome() reads (falsy, with the reason)."""

    def __init__(self, reason: str):
        self.reason = reason

    def __bool__(self) -> bool:
        return False


def request_headers(given: dict[str, str]) -> dict[str, str]:
    """The headers curl sends: User-Agent and Accept unless -H replaces them (names compare without case),
    and -H "Name:" with nothing after the colon removes a header curl would send (curl's man page, -H)."""
    sent = {"User-Agent": CURL_VERSION, "Accept": "*/*"}
    for name, value in given.items():
        for default in [d for d in sent if d.lower() == name.lower()]:
            del sent[default]
        if value:
            sent[name] = value
    return sent


def curl(ctx: Context, args: list[str]) -> Result:
    """curl: the body on stdout; -I/-i headers; -o/-w; -v trace on stderr; errors as curl words them."""
    opts = _CurlArgs(args)
    if opts.error:
        return Result("", opts.error + "\n", 2)
    if not opts.urls:
        return Result("", "curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2)
    method = opts.method or ("HEAD" if opts.head else "GET")
    out, err, code = "", "", 0
    quiet = opts.silent and not opts.show_error
    sent = request_headers(opts.headers)
    for url in opts.urls:
        try:
            response, how, host, ip, port = _request(ctx, url, opts.resolve, sent, method)
        except KubelabError as exc:   # a URL curl itself would reject
            code = 3
            err += "" if quiet else f"curl: (3) URL rejected: {exc}\n"
            continue
        if opts.verbose and ip:
            err += f"* Host {host}:{port} was resolved.\n*   Trying {ip}:{port}...\n"
        if how != "ok":
            if how == "dns":
                code, message = 6, f"curl: (6) Could not resolve host: {host}\n{slow_lookup_note(ctx, host)}".rstrip()
            elif how == "refused":
                code, message = 7, f"curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server"
            else:
                limit = opts.connect_timeout or opts.max_time
                if limit is not None:
                    ms = int(float(limit) * 1000) + 1
                    code, message = 28, f"curl: (28) Connection timed out after {ms} milliseconds"
                else:
                    code, message = 28, (f"curl: (28) Failed to connect to {host} port {port} after "
                                         f"{KERNEL_CONNECT_GIVE_UP_MS} ms: Couldn't connect to server")
            if not quiet:
                err += message + "\n"
            if opts.write_out:
                out += _write_out(opts.write_out, 0, "", 0)
            continue
        status = response.status
        head = f"HTTP/1.1 {status} {_reason_phrase(status)}".rstrip() + "\r\n"
        body = "" if method == "HEAD" else response.text
        header_lines = [f"{k}: {v}" for k, v in sorted(response.headers.items())]
        if not any(k.lower() == "content-length" for k in response.headers):
            header_lines.append(f"Content-Length: {len(response.text.encode())}")
        if opts.verbose:
            err += f"* Connected to {host} ({ip}) port {port}\n> {method} {urlsplit(url if '://' in url else 'http://' + url).path or '/'} HTTP/1.1\n"
            err += f"> Host: {host}\n" + "".join(f"> {k}: {v}\n" for k, v in sent.items()) + ">\n"
            err += f"< {head.strip()}\n" + "".join(f"< {line}\n" for line in header_lines) + "<\n"
            err += f"* Connection #0 to host {host} left intact\n"
        if opts.fail and status >= 400:
            code = 22
            if not quiet:
                err += f"curl: (22) The requested URL returned error: {status}\n"
            continue
        shown = ""
        if opts.head or opts.include:
            shown += head + "".join(f"{line}\r\n" for line in header_lines) + "\r\n"
        shown += body
        if opts.output is None:
            out += shown
        if opts.write_out:
            out += _write_out(opts.write_out, status, ip or "", port)
    return Result(out, err, code)


def wget(ctx: Context, args: list[str]) -> Result:
    """busybox wget: -q, -O FILE (- for stdout), -T seconds, --spider; errors as busybox prints them."""
    quiet, output, spider, urls, headers = False, None, False, [], {}
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-q", "--quiet"):
            quiet = True
        elif a in ("-O", "--output-document", "-T", "--timeout", "--header"):
            if i + 1 >= len(args):
                return Result("", f"wget: option requires an argument -- '{a.lstrip('-')}'\n", 1)
            if a in ("-O", "--output-document"):
                output = args[i + 1]
            elif a == "--header" and ":" in args[i + 1]:
                k, v = args[i + 1].split(":", 1)
                headers[k.strip()] = v.strip()
            i += 1
        elif a.startswith("-O"):
            output = a[2:]
        elif a == "-qO-" or a == "-qO":
            quiet, output = True, "-" if a == "-qO-" else (args[i + 1] if i + 1 < len(args) else "-")
            i += 0 if a == "-qO-" else 1
        elif a == "--spider":
            spider = True
        elif a.startswith("-"):
            return Result("", f"wget: unrecognized option '{a}'\n", 1)
        else:
            urls.append(a)
        i += 1
    if not urls:
        return Result("", "BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] URL...\n", 1)
    out, err = "", ""
    for url in urls:
        response, how, host, ip, port = _request(ctx, url, {}, headers, "HEAD" if spider else "GET")
        if how == "dns":
            return Result(out, err + f"wget: bad address '{host}'\n" + slow_lookup_note(ctx, host), 1)
        if not quiet:
            err += f"Connecting to {host} ({ip}:{port})\n"
        if how == "refused":
            return Result(out, err + f"wget: can't connect to remote host ({ip}): Connection refused\n", 1)
        if how == "timeout":
            return Result(out, err + "wget: download timed out\n", 1)
        if response.status >= 400:
            return Result(out, err + f"wget: server returned error: HTTP/1.1 {response.status} "
                                     f"{_reason_phrase(response.status)}\n", 1)
        if spider:
            if not quiet:
                err += "remote file exists\n"
            continue
        if output == "-":
            out += response.text
            if not quiet:
                err += "writing to stdout\nwritten to stdout\n"
        elif not quiet:
            name = output or (urlsplit(url if "://" in url else "http://" + url).path.rsplit("/", 1)[-1] or "index.html")
            err += f"saving to '{name}'\n'{name}' saved\n"
    return Result(out, err, 0)
