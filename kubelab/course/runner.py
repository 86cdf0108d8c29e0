"""Run inside the sandbox: execute one grading notebook and serve calls of its function answers.

``python -m kubelab.course.runner WORK`` reads ``WORK/grading.ipynb`` and ``WORK/plan.json``,
runs every cell in a fresh kernel (errors allowed, a per-cell timeout interrupts the cell, the
output of a cell is capped), then writes one JSON line on stdout: the answers the extract cells
displayed and the errors of the learner's cells. It then answers call requests read from stdin,
one JSON line each, until stdin closes. Every line it writes is plain data; the grader outside
trusts none of it beyond "this is what the learner's answer is".
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from .answers import ANSWER_MIME

__all__ = ["main"]

_CELL_FILE = re.compile(r"\(\w+\.py, line (\d+)\)")
_OMITTED = "[output truncated by the grader: over {limit} bytes]"


def _client_class():
    from nbclient import NotebookClient

    class LimitedClient(NotebookClient):
        """nbclient that keeps at most ``output_limit`` bytes of output per cell (nbgrader's LimitOutput)."""

        output_limit = 1 << 20
        _kept: dict[int, int] = {}

        def output(self, outs, msg, display_id, cell_index):  # noqa: D401 - nbclient's hook
            size = len(json.dumps(msg.get("content", {}), default=str))
            kept = self._kept.get(cell_index, 0)
            if kept + size > self.output_limit:
                if kept <= self.output_limit:
                    from nbformat.v4 import new_output
                    outs.append(new_output("stream", name="stderr", text=_OMITTED.format(limit=self.output_limit)))
                    self._kept[cell_index] = self.output_limit + 1
                return None
            self._kept[cell_index] = kept + size
            return super().output(outs, msg, display_id, cell_index)

    return LimitedClient


def _answer_records(cell: Any) -> list[dict[str, Any]]:
    return [o["data"][ANSWER_MIME] for o in cell.get("outputs", [])
            if o.get("output_type") == "display_data" and isinstance(o.get("data", {}).get(ANSWER_MIME), dict)]


def _error_line(cell: Any) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            evalue = _CELL_FILE.sub(r"(line \1)", str(output.get("evalue")))  # IPython's file names vary by run
            return f"raised {output.get('ename')}: {evalue}".splitlines()[0][:300]
    return ""


def _interrupt(client: Any) -> bool:
    """Interrupt the running cell; True when the kernel answers again (the run may go on)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell

    from jupyter_core.utils import run_sync

    run_sync(client.km.interrupt_kernel)()
    # nbclient's reader of the timed-out cell keeps reading the old channels and would swallow the next
    # cells' outputs: talk to the kernel over fresh channels from here on
    stale = client.kc
    client.kc = client.km.client()
    client.kc.start_channels()
    try:
        run_sync(client.kc.wait_for_ready)(timeout=30)
    except RuntimeError:
        return False
    stale.stop_channels()
    # the interrupted cell's late messages can be read as the next cell's: probe until a probe's own output
    # comes back, so the learner's next cell starts on a clean channel
    for attempt in range(4):
        marker = f"kubelab-probe-{attempt}"
        probe = new_code_cell(f"print({marker!r})")
        client.nb.cells.append(probe)
        try:
            client.execute_cell(probe, len(client.nb.cells) - 1)
        except (CellTimeoutError, DeadKernelError):
            return False
        finally:
            client.nb.cells.pop()
        if any(marker in o.get("text", "") for o in probe.get("outputs", [])):
            return True
    return False


def _say(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell

    work = Path(argv[0])
    plan = json.loads((work / "plan.json").read_text(encoding="utf-8"))
    nb = nbformat.read(work / "grading.ipynb", as_version=4)
    client = _client_class()(nb, timeout=plan["timeout"], kernel_name="python3", allow_errors=True,
                             interrupt_on_timeout=False, shutdown_kernel="immediate",
                             resources={"metadata": {"path": str(work)}})
    client.output_limit = plan["output_limit"]
    stopped, stopped_at = "", -1
    with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        # every finding is sent at once, so a run that dies later keeps what it handed out
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                _say({"event": "error", "cell": index,
                      "error": f"did not finish within {plan['timeout']} s and was interrupted"})
                if not _interrupt(client):
                    stopped, stopped_at = "the kernel did not stop after an interrupt", index
                    break
                continue
            except DeadKernelError:
                _say({"event": "error", "cell": index, "error": "killed the kernel"})
                stopped, stopped_at = "the kernel died", index
                break
            if error := _error_line(cell):
                _say({"event": "error", "cell": index, "error": error})
            for record in _answer_records(cell)[:1]:
                if plan["extract_cells"].get(str(index)) == record.get("exercise"):
                    _say({"event": "answer", "answer": record})
        _say({"event": "done", "stopped": stopped, "cell": stopped_at})
        if stopped:
            return 1
        for line in sys.stdin:
            request = json.loads(line)
            cell = new_code_cell(f"__import__('kubelab.course.answers', fromlist=['call']).call("
                                 f"{request['exercise']!r}, {json.dumps(request['payload'])!r})")
            nb.cells.append(cell)  # nbclient stores the executed cell at its index
            try:
                client.execute_cell(cell, len(nb.cells) - 1)
                records = _answer_records(cell)
                reply = records[-1] if records else {"kind": "raised", "error": _error_line(cell) or "no result"}
            except CellTimeoutError:
                reply = {"kind": "raised", "error": f"TimeoutError: the call did not finish within {plan['timeout']} s"}
            except DeadKernelError:
                _say({"kind": "raised", "error": "the kernel died during the call"})
                return 1
            finally:
                nb.cells.pop()
            _say(reply)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
