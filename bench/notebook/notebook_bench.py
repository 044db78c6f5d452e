"""The seed notebook's flow (devstack/conformance/notebook_flow.py, azure-ai-ml) as bench:notebook runs it.

Two modes, each one process, as a notebook kernel would be:

  flow         every cell of the notebook in order (notebook_flow.STEPS, jobs.stream to wait for the job),
               one JSON line per step with its start and end (epoch ms) and the process's RSS after it.
  streams N    the cells up to the job's submission, then N threads in this one process each following
               the same job with ml_client.jobs.stream (how one process would follow many jobs), so the
               bench can measure what one more streaming thread costs in memory and requests.

Lines on stdout (stdout of the SDK goes to stderr): {"event": "started"|"imported"|"step"|"streams"|"done", ...}.
Memory from /proc/self/status (VmRSS now, VmHWM the kernel's peak), CPU from getrusage; the bench also
samples this process from outside.
"""

import contextlib
import json
import os
import resource
import sys
import threading
import time
import traceback
from typing import Any, Dict

REPORT = sys.stdout
STARTED_MS = time.time() * 1000


def now_ms() -> float:
    return round(time.time() * 1000, 1)


def memory() -> Dict[str, float]:
    figures: Dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures["rssMiB" if key == "VmRSS" else "hwmMiB"] = round(int(value.split()[0]) / 1024, 1)
    return figures


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 2)


def report(event: str, **fields: Any) -> None:
    REPORT.write(json.dumps({"event": event, "atMs": now_ms(), **fields}) + "\n")
    REPORT.flush()


report("started", startedMs=round(STARTED_MS, 1), **memory())
sys.path.insert(0, os.environ["FTFLOW_NOTEBOOK_FLOW_DIR"])
import notebook_flow  # noqa: E402  (the SDK's imports happen here, as in the notebook's first cells)

report("imported", seconds=round((time.time() * 1000 - STARTED_MS) / 1000, 2), cpuSeconds=cpu_seconds(), **memory())


def run_step(step: Any) -> bool:
    started = now_ms()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            detail = step()
        ok, fields = True, {"detail": detail}
    except Exception as err:  # noqa: BLE001 (reported, then the run stops)
        ok, fields = False, {"error": f"{type(err).__name__}: {err}"[:2000], "trace": traceback.format_exc()[-3000:]}
    report("step", step=step.__name__, ok=ok, startMs=started, endMs=now_ms(), **memory(), **fields)
    return ok


def flow() -> int:
    for step in notebook_flow.STEPS:
        if not run_step(step):
            return 1
    state = notebook_flow.state
    report(
        "done",
        jobName=state["job"].name,
        endpointName=state["endpoint"].name,
        cpuSeconds=cpu_seconds(),
        **memory(),
    )
    return 0


def streams(count: int) -> int:
    steps = notebook_flow.STEPS
    upto = steps[: steps.index(notebook_flow.submit_pipeline) + 1]
    for step in upto:
        if not run_step(step):
            return 1
    ws = notebook_flow.state["ws"]
    name = notebook_flow.state["job"].name
    errors: list = []

    def follow() -> None:
        try:
            ws.jobs.stream(name)
        except Exception as err:  # noqa: BLE001
            errors.append(f"{type(err).__name__}: {err}"[:500])

    threads = [threading.Thread(target=follow, name=f"stream-{i}") for i in range(count)]
    before = {**memory(), "cpuSeconds": cpu_seconds()}
    started = now_ms()
    # Every thread's stream output (log lines) goes nowhere: sys.stdout is shared by the threads.
    with open(os.devnull, "w", encoding="utf-8") as devnull, contextlib.redirect_stdout(devnull):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    report(
        "streams",
        threads=count,
        jobName=name,
        startMs=started,
        endMs=now_ms(),
        before=before,
        after={**memory(), "cpuSeconds": cpu_seconds()},
        errors=errors,
    )
    report("done", jobName=name, cpuSeconds=cpu_seconds(), **memory())
    return 1 if errors else 0


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "flow"
    if mode == "flow":
        return flow()
    if mode == "streams":
        return streams(int(sys.argv[2]))
    raise SystemExit(f"unknown mode {mode!r} (flow | streams N)")


if __name__ == "__main__":
    sys.exit(main())
