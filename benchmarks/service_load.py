"""Load test of the recognition service on loopback, with wrk (Debian package ``wrk``).

Starts ``digitrec serve`` (default: 2 workers, the bundled model, access log on, as shipped), then:
1. posts 280×280 canvas PNGs (MNIST test digits drawn as the page draws them: black ink on a white
   RGBA canvas, sent as JSON data URLs, as the page sends them) from N concurrent connections for a
   duration, and reports requests/s, latency percentiles, errors, and the server's memory (RSS of every
   worker, sampled each second: flat after warm-up means no leak);
2. posts batches of raw 28×28 images (application/octet-stream, N×784 bytes) and reports images/s.

    python benchmarks/service_load.py                       # 30 s run
    python benchmarks/service_load.py --duration 300        # the 5-minute run
    python benchmarks/service_load.py --json results.json   # also write the numbers as JSON

wrk was chosen over a Python generator because on a 2-core machine the generator shares the CPU with the
server: wrk (C, epoll, LuaJIT) costs a fraction of what an asyncio/httpx client would, so the numbers
measure the server. Needs MNIST (``DIGITREC_DATA_DIR``) for the digits and ``apt-get install wrk``.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

LUA_CANVAS = r"""
-- Cycles through the request bodies in BODIES_DIR; prints a JSON summary at the end.
local bodies = {}
local i = 0
for n = 1, COUNT do
  local f = assert(io.open(string.format("BODIES_DIR/%03d.json", n), "rb"))
  bodies[n] = f:read("*a")
  f:close()
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/api/v1/predict", nil, bodies[i])
end
"""
LUA_BATCH = r"""
local f = assert(io.open("BODY_FILE", "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.path = "/api/v1/predict/batch"
wrk.headers["Content-Type"] = "application/octet-stream"
"""
LUA_SUMMARY = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'SUMMARY {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, ' ..
    '"p999": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


def canvas_bodies(count: int) -> tuple[list[bytes], list[int]]:
    from digitrec.data import load_dataset

    test = load_dataset("mnist", "test", progress=False)
    rng = np.random.default_rng(0)
    bodies, labels = [], []
    for index in rng.choice(len(test.images), count, replace=False):
        side = int(rng.integers(150, 230))  # drawn at varied sizes and places, as people draw
        ink = np.asarray(Image.fromarray(test.images[index]).resize((side, side), Image.Resampling.BILINEAR))
        canvas = np.full((280, 280, 4), 255, np.uint8)
        top, left = (int(v) for v in rng.integers(0, 280 - side + 1, 2))
        canvas[top : top + side, left : left + side, :3] = 255 - ink[..., None]
        png = io.BytesIO()
        Image.fromarray(canvas, "RGBA").save(png, format="PNG")
        url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
        bodies.append(json.dumps({"image": url}).encode())
        labels.append(int(test.labels[index]))
    return bodies, labels


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_and_faults(pids: list[int]) -> tuple[float, int]:
    """User + system CPU seconds and minor page faults the processes have had so far (a fault per page of
    memory the allocator takes fresh from the kernel: churn that costs CPU without growing the RSS)."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = faults = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu += int(fields[11]) + int(fields[12])  # utime, stime
        faults += int(fields[7])  # minflt
    return cpu / ticks, faults


def connections_per_worker(pids: list[int], port: int) -> list[int]:
    """How many established connections to ``port`` each process holds. The workers share one listening
    socket and whichever accepts first keeps the connection, so 32 clients may split 16/16 or 8/24 — and
    a worker's latency is its own queue: the tail follows the larger share (the service moves connections
    off a worker holding more than its share: ``digitrec.service.balance``)."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # ESTABLISHED, our side
                established.add(fields[9])  # inode
    counts = []
    for pid in pids:
        links = (os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir())
        counts.append(sum(link[8:-1] in established for link in links if link.startswith("socket:[")))
    return counts


def connections_moved(url: str) -> float:
    """How many connections the workers have closed to even their shares since the server started — the
    warm-up's included, when its 32 connections were first spread (the service's own counter)."""
    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("digitrec_connections_moved_total"))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class WorkerSampler(threading.Thread):
    """RSS of each worker process, and how the clients' connections split between them, once a second."""

    def __init__(self, pids: list[int], port: int):
        super().__init__(daemon=True)
        self.pids, self.port, self.samples, self.stopped = pids, port, [], threading.Event()
        self.connections: list[list[int]] = []

    def run(self) -> None:
        start = time.monotonic()
        while not self.stopped.wait(1.0):
            try:
                self.samples.append((round(time.monotonic() - start, 1), [round(rss_mib(p), 1) for p in self.pids]))
            except OSError:
                return
            try:
                self.connections.append(connections_per_worker(self.pids, self.port))
            except OSError:  # a descriptor closed while being read: count again a second later
                pass


def wrk(url: str, script: str, connections: int, threads: int, duration: int) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "-s", script, url]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith("SUMMARY "))
    summary = json.loads(line[len("SUMMARY "):])
    seconds = summary["duration_us"] / 1e6
    summary["requests_per_s"] = round(summary["requests"] / seconds, 1)
    summary["errors_total"] = sum(summary["errors"].values())
    summary["command"] = " ".join(command)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds of the canvas run (after warm-up)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1000, help="images per batch request")
    parser.add_argument("--batch-duration", type=int, default=15)
    parser.add_argument("--batch-connections", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("error: wrk is not installed (apt-get install wrk)")

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="digitrec-load-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "digitrec", "serve", "--workers", str(args.workers),
                               "--port", str(port), "--feedback-db", str(work / "feedback.sqlite3")],
                              stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "wb"),
                              start_new_session=True)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        bodies, labels = canvas_bodies(64)
        (work / "bodies").mkdir()
        for n, body in enumerate(bodies, 1):
            (work / "bodies" / f"{n:03d}.json").write_bytes(body)
        answers = [httpx.post(f"{url}/api/v1/predict", content=b, headers={"content-type": "application/json"})
                   .json()["digit"] for b in bodies]
        accuracy = float(np.mean(np.array(answers) == np.array(labels)))
        canvas_lua = work / "canvas.lua"
        canvas_lua.write_text(LUA_CANVAS.replace("BODIES_DIR", str(work / "bodies")).replace("COUNT", str(len(bodies)))
                              + LUA_SUMMARY)

        wrk(url, str(canvas_lua), args.connections, 2, args.warmup)  # warm-up: caches, allocator, JIT
        # Workers are the server itself (1 worker) or its spawned children (not the resource tracker).
        workers = [server.pid] if args.workers == 1 else [
            p for p in children(server.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
        sampler = WorkerSampler(workers, port)
        sampler.start()
        cpu_before, faults_before = cpu_and_faults(workers)
        canvas = wrk(url, str(canvas_lua), args.connections, 2, args.duration)
        # Server CPU per request: what capacity depends on, whatever else shares the cores.
        cpu_after, faults_after = cpu_and_faults(workers)
        canvas["server_cpu_ms_per_request"] = round((cpu_after - cpu_before) * 1000 / canvas["requests"], 2)
        canvas["page_faults_per_request"] = round((faults_after - faults_before) / canvas["requests"], 1)
        sampler.stopped.set()
        sampler.join()
        moved = connections_moved(url)

        from digitrec.data import load_dataset
        test = load_dataset("mnist", "test", progress=False)
        raw = test.images[: args.batch_size].tobytes()
        (work / "batch.bin").write_bytes(raw)
        batch_lua = work / "batch.lua"
        batch_lua.write_text(LUA_BATCH.replace("BODY_FILE", str(work / "batch.bin")) + LUA_SUMMARY)
        batch = wrk(url, str(batch_lua), args.batch_connections, 1, args.batch_duration)
        batch["images_per_s"] = round(batch["requests_per_s"] * args.batch_size, 0)
        log_lines = sum(1 for _ in open(work / "server.log", "rb"))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        shutil.rmtree(work, ignore_errors=True)

    rss = [s for _, s in sampler.samples]
    counts = sampler.connections
    split = f"{counts[0]} after 1 s, {counts[-1]} at the end" if counts else "not counted"
    results = {
        "machine": {"cpus": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "wrk": subprocess.run(["wrk", "-v"], capture_output=True,
                                                                              text=True).stdout.split("\n")[0]},
        "load_average_before_and_after": [load_before, os.getloadavg()],  # other work sharing the cores
        "workers": args.workers, "connections": args.connections, "duration_s": args.duration,
        "sanity_accuracy_of_the_64_canvases": accuracy,
        "canvas": canvas, "connections_per_worker": sampler.connections, "connections_moved": moved,
        "rss_mib": {"per_worker_first": rss[0] if rss else None, "per_worker_last": rss[-1] if rss else None,
                    "per_worker_max": [max(col) for col in zip(*rss)] if rss else None,
                    "samples": sampler.samples},
        "batch": batch, "batch_size": args.batch_size, "access_log_lines": log_lines,
    }
    c = canvas
    print(f"canvas PNGs, {args.connections} connections, {args.workers} workers, {args.duration} s: "
          f"{c['requests_per_s']:.0f} req/s, p50 {c['latency_us']['p50'] / 1000:.1f} ms, "
          f"p99 {c['latency_us']['p99'] / 1000:.1f} ms, errors {c['errors_total']} of {c['requests']}; "
          f"server CPU {c['server_cpu_ms_per_request']} ms and {c['page_faults_per_request']} page faults per "
          f"request; connections per worker {split} ({moved:.0f} moved, warm-up included)")
    if rss:
        print(f"worker RSS (MiB): after warm-up {rss[0]}, at the end {rss[-1]}, max "
              f"{results['rss_mib']['per_worker_max']}")
    print(f"batch of {args.batch_size} raw 28×28 images: {batch['images_per_s']:.0f} images/s "
          f"(p50 {batch['latency_us']['p50'] / 1000:.1f} ms per request, errors {batch['errors_total']})")
    print(f"machine load average (1 min) before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"sanity: {accuracy * 100:.0f} % of the 64 canvases recognized correctly")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
