"""wrk on loopback: Lua scripts for the three ingest paths, and its summary as a record."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped]

_DONE = r"""
done = function(summary, latency, requests)
  local extra, c2, c4, c5 = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    extra = extra + (t:get("wrapped") or 0)
    c2 = c2 + (t:get("c2") or 0); c4 = c4 + (t:get("c4") or 0); c5 = c5 + (t:get("c5") or 0)
  end
  io.write(string.format(
    '\nWRKJSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"wrapped":%d,"c2":%d,"c4":%d,"c5":%d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, extra, c2, c4, c5))
end
"""

_THREADS = r"""
threads = {}
c2, c4, c5 = 0, 0, 0
response = function(status, headers, body)
  if status < 300 then c2 = c2 + 1 elseif status < 500 then c4 = c4 + 1 else c5 = c5 + 1 end
end
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Lua string literal here


def healthz_script() -> str:
    return _THREADS + _DONE


def responses_script(*, path: str, key: str, run: str, touchpoints: list[str],
                     comments: list[str]) -> str:
    """POST JSON answers with a comment, each with its own Idempotency-Key and customer."""
    tps = ", ".join(_lua_string(t) for t in touchpoints)
    cms = ", ".join(_lua_string(c) for c in comments)
    return _THREADS + f"""
local tps = {{{tps}}}
local comments = {{{cms}}}
local n = 0
local esc = function(s) return (s:gsub('\\\\', '\\\\\\\\'):gsub('"', '\\\\"')) end
request = function()
  n = n + 1
  local id = "{run}-" .. tid .. "-" .. n
  local body = '{{"touchpoint":"' .. tps[(n % #tps) + 1] .. '","score":' .. (n % 11) ..
    ',"customer":"' .. id .. '","comment":"' .. esc(comments[(n % #comments) + 1]) .. '"}}'
  local headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {key}",
                   ["Idempotency-Key"] = id}}
  return wrk.format("POST", "{path}", headers, body)
end
""" + _DONE


def form_script(*, tokens: list[str], comments: list[str]) -> str:
    """POST the survey form once to each token; past the last token it wraps (an edit)."""
    toks = ", ".join(_lua_string(t) for t in tokens)
    cms = ", ".join(_lua_string(c) for c in comments)
    return _THREADS + f"""
local tokens = {{{toks}}}
local comments = {{{cms}}}
local n = 0
local enc = function(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
init = function(args) wrapped = 0 end
request = function()
  -- threads take interleaved tokens, so each token is posted once while they last
  local i = (n * nthreads + tid - 1)
  n = n + 1
  if i >= #tokens then wrapped = wrapped + 1 end
  local token = tokens[(i % #tokens) + 1]
  local body = "score=" .. (n % 11) .. "&comment=" .. enc(comments[(n % #comments) + 1])
  return wrk.format("POST", "/s/" .. token,
    {{["Content-Type"] = "application/x-www-form-urlencoded"}}, body)
end
""" + _DONE


@dataclass
class WrkResult:
    """One wrk run."""

    name: str
    requests: int
    seconds: float
    errors: int
    status_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    wrapped: int = 0
    ok: int = 0
    client_errors: int = 0
    server_errors: int = 0
    rss_mb: dict[int, float] = field(default_factory=dict)
    service_cores: float = 0.0
    reader_cores: float = 0.0
    database_cores: float = 0.0
    wrk_cores: float = 0.0

    def per_request_us(self, cores: float) -> float:
        """CPU time per request, in microseconds, from cores busy over the run."""
        return cores * self.seconds / self.requests * 1e6 if self.requests else 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def acknowledged(self) -> int:
        return self.requests - self.status_errors


class RssSampler:
    """Peak resident memory of each service process while a load runs."""

    def __init__(self, pids: list[int], interval: float = 0.25) -> None:
        self.pids = pids
        self.interval = interval
        self.peak: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.pids:
                try:
                    rss = psutil.Process(pid).memory_info().rss / 2**20
                except psutil.Error:
                    continue
                self.peak[pid] = max(self.peak.get(pid, 0.0), rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wrk_version() -> str:
    exe = shutil.which("wrk")
    if exe is None:
        return "not installed"
    out = subprocess.run([exe, "-v"], capture_output=True, text=True, check=False)
    return (out.stdout + out.stderr).strip().splitlines()[0]


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


def database_pids(postmaster: int) -> list[int]:
    try:
        root = psutil.Process(postmaster)
        return [postmaster, *(c.pid for c in root.children(recursive=True))]
    except psutil.Error:
        return []


def comment_reader_pids(pids: list[int]) -> list[int]:
    """The comment-reading child processes among a service's processes."""
    found = []
    for pid in pids:
        try:
            if "feedback.sentiment.child" in " ".join(psutil.Process(pid).cmdline()):
                found.append(pid)
        except psutil.Error:
            continue
    return found


def run_wrk(name: str, url: str, script: str, workdir: Path, *, threads: int, connections: int,
            seconds: int, pids: list[int], postmaster: int | None = None) -> WrkResult:
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    lua = workdir / f"{name}.lua"
    lua.write_text(script.replace("nthreads", str(threads)))
    args = [exe, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
            "--latency", "-s", str(lua), url]
    readers = comment_reader_pids(pids)
    workers = [p for p in pids if p not in readers]
    with RssSampler(pids) as rss:
        started = time.monotonic()
        cpu_service = _cpu_seconds(workers)
        cpu_readers = _cpu_seconds(readers)
        db_before = database_pids(postmaster) if postmaster else []
        cpu_db = _cpu_seconds(db_before)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_wrk = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        cpu_service = _cpu_seconds(workers) - cpu_service
        cpu_readers = _cpu_seconds(readers) - cpu_readers
        # Backends that started during the run are not counted: pools keep theirs open.
        cpu_db = _cpu_seconds(db_before) - cpu_db
        wall = time.monotonic() - started
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {out.stdout[-1500:]} {out.stderr[-1500:]}")
    data = json.loads(line.removeprefix("WRKJSON "))
    errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
    return WrkResult(
        name=name, requests=data["requests"], seconds=data["duration_us"] / 1e6, errors=errors,
        status_errors=data["status_errors"], p50_ms=data["p50_us"] / 1e3, p90_ms=data["p90_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3, max_ms=data["max_us"] / 1e3, wrapped=data["wrapped"],
        ok=data["c2"], client_errors=data["c4"], server_errors=data["c5"],
        rss_mb=rss.peak, service_cores=cpu_service / wall, reader_cores=cpu_readers / wall,
        database_cores=cpu_db / wall, wrk_cores=cpu_wrk / wall,
    )
