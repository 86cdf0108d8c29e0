"""Files and environment the kubelet gives a container: /etc/resolv.conf, /etc/hosts, /etc/hostname,
and the environment (the container's env plus the Service variables of enableServiceLinks)."""
from __future__ import annotations

from ...net.objects import namespace_of
from .base import Context, Result

__all__ = ["cat", "env", "echo", "true"]


def _file(ctx: Context, path: str) -> str | None:
    if path == "/etc/resolv.conf":
        return ctx.lab.resolv_conf(ctx.src)
    if path == "/etc/hosts":
        return ctx.lab.hosts_file(ctx.src)
    if path == "/etc/hostname":
        return f"{ctx.lab.hostname(ctx.src)}\n"
    return None


def cat(ctx: Context, args: list[str]) -> Result:
    out, err, code = "", "", 0
    for path in args or ["-"]:
        if path == "-":
            out += ctx.stdin
            continue
        text = _file(ctx, path)
        if text is None:
            err += f"cat: can't open '{path}': No such file or directory\n"
            code = 1
        else:
            out += text
    return Result(out, err, code)


def _service_env(ctx: Context) -> list[tuple[str, str]]:
    """The docker-link variables the kubelet sets for each Service in the pod's namespace (and the
    kubernetes Service), unless spec.enableServiceLinks is false (kubelet_pods.go getServiceEnvVarMap)."""
    spec = ctx.pod["spec"]
    services = [s for s in ctx.lab.cluster.items("Service", namespace_of(ctx.pod))
                if (s["spec"].get("clusterIP") or "None") != "None"]
    if spec.get("enableServiceLinks") is False:
        services = [s for s in services if s["metadata"]["name"] == "kubernetes"]
    if namespace_of(ctx.pod) != "default":
        services += [s for s in ctx.lab.cluster.items("Service", "default") if s["metadata"]["name"] == "kubernetes"]
    out = []
    for svc in services:
        ports = svc["spec"].get("ports") or []
        if not ports:
            continue
        prefix = svc["metadata"]["name"].upper().replace("-", "_")
        ip = svc["spec"]["clusterIP"]
        first = ports[0]
        out += [(f"{prefix}_SERVICE_HOST", ip), (f"{prefix}_SERVICE_PORT", str(first["port"]))]
        for p in ports:
            if p.get("name"):
                out.append((f"{prefix}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}", str(p["port"])))
        proto = first.get("protocol", "TCP").lower()
        out.append((f"{prefix}_PORT", f"{proto}://{ip}:{first['port']}"))
        for p in ports:
            pr = p.get("protocol", "TCP")
            base = f"{prefix}_PORT_{p['port']}_{pr}"
            out += [(base, f"{pr.lower()}://{ip}:{p['port']}"), (f"{base}_PROTO", pr.lower()),
                    (f"{base}_PORT", str(p["port"])), (f"{base}_ADDR", ip)]
    return out


def env(ctx: Context, args: list[str]) -> Result:
    container = next((c for c in ctx.pod["spec"].get("containers") or [] if c.get("name") == ctx.container), {})
    values = [("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
              ("HOSTNAME", ctx.lab.hostname(ctx.src))]
    values += [(e["name"], str(e.get("value", ""))) for e in container.get("env") or [] if "name" in e]
    values += _service_env(ctx)
    values.append(("HOME", "/root"))
    if args:   # printenv NAME
        found = [v for k, v in values if k in args]
        return Result("".join(f"{v}\n" for v in found), "", 0 if found else 1)
    return Result("".join(f"{k}={v}\n" for k, v in values), "", 0)


def echo(ctx: Context, args: list[str]) -> Result:
    return Result(" ".join(args) + "\n", "", 0)


def true(ctx: Context, args: list[str]) -> Result:
    return Result("", "", 0)
