/**
 * Socket-floor benchmark: CPU per request at `-P 1` of redis-server, of damselfly, of
 * scripts/socket_floor_server.ts (PING→PONG over Deno's sockets and nothing else) and of
 * scripts/socket_floor_epoll_server.ts (the same over epoll, recv and send called through FFI),
 * started side by side, split into user and system time. It shows how much of damselfly's CPU
 * per request at `-P 1` is the runtime's socket layer and event loop, which no change to
 * damselfly's own code can remove.
 *
 * Usage: deno run -A scripts/bench-socket-floor.ts [--requests N] [--rounds N]
 * Invariant: the three servers run the same redis-benchmark in turn, round after round, so
 * that machine load affects them alike; figures are medians over the rounds.
 */
import { argValue, cpuTicksSplit, freePort, redisBenchmarkRps, ROOT, stopChild, waitPing } from "./bench_lib.ts";

const REQUESTS = Number(argValue("requests", "200000"));
const ROUNDS = Number(argValue("rounds", "3"));
const TICK_US = 10_000;

interface Target {
  name: string;
  port: number;
  child: Deno.ChildProcess;
}

/** Starts `cmd args` on a free port (the port is appended by `withPort`) and waits for PING. */
async function start(name: string, cmd: string, withPort: (port: number) => string[]): Promise<Target> {
  const port = freePort();
  const child = new Deno.Command(cmd, { args: withPort(port), stdout: "null", stderr: "null" }).spawn();
  await waitPing(port, 60_000);
  return { name, port, child };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const deno = Deno.execPath();
const targets = [
  await start("redis-server", "redis-server", (p) => ["--port", String(p), "--bind", "127.0.0.1", "--save", ""]),
  await start("damselfly", deno, (p) => [
    "run",
    "-A",
    `${ROOT}main.ts`,
    `--port=${p}`,
    "--bind=127.0.0.1",
    "--logtostderr=false",
    "--minloglevel=1",
  ]),
  await start("socket floor", deno, (p) => ["run", "-A", `${ROOT}scripts/socket_floor_server.ts`, String(p)]),
  await start("epoll floor", deno, (p) => ["run", "-A", `${ROOT}scripts/socket_floor_epoll_server.ts`, String(p)]),
];
const cpu = new Map<string, number[]>(targets.map((t) => [t.name, []]));
const userCpu = new Map<string, number[]>(targets.map((t) => [t.name, []]));
const rps = new Map<string, number[]>(targets.map((t) => [t.name, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const before = cpuTicksSplit(t.child.pid);
      const r = await redisBenchmarkRps(
        ["-p", String(t.port), "-c", "50", "-n", String(REQUESTS), "-P", "1", "-t", "ping_mbulk"],
      );
      const after = cpuTicksSplit(t.child.pid);
      const user = after.user - before.user;
      cpu.get(t.name)!.push(((user + after.system - before.system) * TICK_US) / REQUESTS);
      userCpu.get(t.name)!.push((user * TICK_US) / REQUESTS);
      rps.get(t.name)!.push(r);
    }
  }
} finally {
  for (const t of targets) await stopChild(t.child);
}
const redisCpu = median(cpu.get("redis-server")!);
console.log(`PING at -P 1, -c 50, ${REQUESTS} requests, median of ${ROUNDS} rounds`);
console.log("server        | rps     | CPU µs/req | user µs/req | CPU ratio to redis");
for (const t of targets) {
  const c = median(cpu.get(t.name)!);
  console.log(
    `${t.name.padEnd(13)} | ${Math.round(median(rps.get(t.name)!)).toString().padStart(7)} | ${
      c.toFixed(2).padStart(10)
    } | ${median(userCpu.get(t.name)!).toFixed(2).padStart(11)} | ${(c / redisCpu).toFixed(2)}`,
  );
}
