"""Commands run inside a simulated pod (`kubectl exec`): the networking tools a learner types, answered
by the engine and printed as the real tools print them, with their real exit codes.

Every tool is available in every container (the simulator does not model images' contents); a
command it does not know fails as a container without it does: exit 127, "executable file not found".
"""
from __future__ import annotations

import shlex

from .base import Context, Result
from . import dns, files, http, net, node

__all__ = ["run_in_pod", "Result", "COMMANDS", "SHELLS"]

COMMANDS = {
    "curl": http.curl, "wget": http.wget,
    "nslookup": dns.nslookup, "dig": dns.dig,
    "nc": net.nc, "ping": net.ping, "ip": net.ip, "hostname": net.hostname, "agnhost": net.agnhost,
    "cat": files.cat, "env": files.env, "printenv": files.env, "echo": files.echo, "true": files.true,
    "iptables-save": node.iptables_save, "ipvsadm": node.ipvsadm, "nft": node.nft, "conntrack": node.conntrack,
}
SHELLS = ("sh", "bash", "ash")


def _not_found(name: str) -> Result:
    """What containerd/runc report for a missing executable; kubectl prints it and exits 127."""
    return Result("", f'OCI runtime exec failed: exec failed: unable to start container process: exec: "{name}": '
                      "executable file not found in $PATH: unknown\n", 127)


def _run(ctx: Context, argv: list[str]) -> Result:
    name = argv[0].rsplit("/", 1)[-1]
    if name in SHELLS:
        if len(argv) >= 3 and argv[1] == "-c":
            return _shell(ctx, argv[2])
        return Result("", "", 0) if len(argv) == 1 and not ctx.stdin else _shell(ctx, ctx.stdin)
    command = COMMANDS.get(name)
    if command is None:
        return _not_found(argv[0]) if argv is ctx.argv else \
            Result("", f"sh: {argv[0]}: not found\n", 127)
    return command(ctx, argv[1:])


def _shell(ctx: Context, script: str) -> Result:
    """`sh -c "a && b; c || d"`: commands run in order with && / || / ; as a shell chains them."""
    try:
        lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError as exc:
        return Result("", f"sh: syntax error: {exc}\n", 2)
    out, err, code, op, argv = "", "", 0, ";", []
    for token in tokens + [";"]:
        if token in (";", "&&", "||", "\n"):
            if argv and (op == ";" or (op == "&&" and code == 0) or (op == "||" and code != 0)):
                result = _run(ctx, argv)
                out, err, code = out + result.stdout, err + result.stderr, result.code
            argv, op = [], token
        elif token in ("|", "&", ">", "<"):
            return Result(out, err + f"sh: {token!r} is not supported by the simulated shell\n", 2)
        else:
            argv.append(token)
    return Result(out, err, code)


def run_in_pod(lab, pod: dict, container: str, argv: list[str], stdin: str = "") -> Result:
    """Run `argv` in `container` of `pod` (a stored Pod dict) on the simulated cluster."""
    ctx = Context(lab, pod, container, list(argv), stdin)
    return _run(ctx, ctx.argv)
