"""Reading what the tools printed in a pod back into kubelab's results: nslookup (bind9's format) into a
DnsAnswer, `curl -s -i` into a Response. The exit codes are the tools' own."""
from __future__ import annotations

from ..net.dns.answer import DnsAnswer, Record

__all__ = ["dns_answer", "http_response", "CURL_EXIT"]

# curl's exit codes (man curl, EXIT CODES) for what a connection attempt can end in
CURL_EXIT = {6: "could not resolve the host", 7: "connection refused", 28: "timed out"}


def dns_answer(out: str, code: int, name: str, rtype: str, pod: str) -> DnsAnswer:
    """nslookup's answer: each Name/Address pair (A, AAAA) or `name<TAB>service = ...` line, NXDOMAIN
    from `** server can't find`."""
    server = next((line.split()[1].split("#")[0] for line in out.splitlines() if line.startswith("Address:\t")), "")
    records, answered, current = [], name, None
    for line in out.splitlines():
        if line.startswith("Name:\t"):
            current = line.split("\t", 1)[1].strip()
            answered = current
        elif line.startswith("Address: ") and current:
            value = line.split(" ", 1)[1].strip()
            records.append(Record(current, "AAAA" if ":" in value else "A", 0, value))
        elif "\tservice = " in line:
            owner, rdata = line.split("\tservice = ", 1)
            prio, weight, port, target = rdata.split()
            records.append(Record(owner, "SRV", 0, f"{prio} {weight} {port} {target.rstrip('.')}", int(prio),
                                  int(weight), int(port), target.rstrip(".")))
    records = [r for r in records if r.type == rtype] or ([] if rtype in ("A", "AAAA", "SRV") else records)
    if "** server can't find" in out:
        rcode = out.split("** server can't find", 1)[1].split(":")[-1].split()[0]
    elif "connection timed out" in out or code not in (0, 1):
        rcode = "SERVFAIL"
    else:
        rcode = "NOERROR"
    return DnsAnswer(name=answered, rtype=rtype, rcode=rcode, records=tuple(records), server=server,
                     reason=f"observed with nslookup in pod {pod}: {rcode}")


def http_response(out: str, code: int) -> tuple[int, dict, str, str]:
    """(status, headers, body, why) from `curl -s -i` output; status 0 when no response came."""
    if code != 0 or not out.startswith("HTTP/"):
        return 0, {}, "", CURL_EXIT.get(code, f"curl exited {code}")
    head, _, body = out.replace("\r\n", "\n").partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return status, headers, body, f"HTTP {status}"
