"""A trace in a notebook: addresses and device names never break across lines (a broken IP reads as two)."""
import re

import kubelab


def test_trace_html_keeps_addresses_whole():
    """Is every addresses, where and device cell of the HTML trace marked nowrap, and action cells not?"""
    lab = kubelab.connect(ip_families=("IPv4", "IPv6"))
    lab.apply("""
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
""")
    page = lab.trace("default/client", "default/web")._repr_html_()
    rows = re.findall(r"<tr><td[^>]*>\d+</td>(.*?)</tr>", page)
    assert rows
    for row in rows:
        cells = re.findall(r"<td style='([^']*)'>(.*?)</td>", row)
        where, device, action, addresses = cells[0], cells[1], cells[2], cells[3]
        for style, _text in (where, device, addresses):
            assert "white-space:nowrap" in style
        assert "nowrap" not in action[0]
        assert " -&gt; " in addresses[1]
