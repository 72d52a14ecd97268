/**
 * The README's first command: `npm start` runs damselfly with embedded defaults (no config
 * file, no external service) and redis-cli gets PONG. Started here on a free port.
 */
import assert from "node:assert/strict";
import { freePort, redisCli, ROOT, waitFor } from "../helpers/server.ts";

Deno.test("npm start serves PING with embedded defaults", async () => {
  const port = freePort();
  const child = new Deno.Command("npm", {
    args: ["start", "--silent", "--", `--port=${port}`, "--bind=127.0.0.1"],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitFor(async () => (await redisCli(port, ["ping"])) === "PONG", "PONG from npm start", 30_000);
    assert.equal(await redisCli(port, ["set", "greeting", "hello"]), "OK");
    assert.equal(await redisCli(port, ["get", "greeting"]), '"hello"');
  } finally {
    // npm runs deno as a child: stop the whole process group through the server itself.
    await redisCli(port, ["shutdown", "nosave"]).catch(() => "");
    await waitFor(async () => (await redisCli(port, ["ping"])) !== "PONG", "server to stop", 10_000);
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  }
});
