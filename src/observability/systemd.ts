/**
 * systemd readiness: tells systemd (Type=notify) that damselfly is serving.
 *
 * Deno cannot send on a unix datagram socket without unstable APIs, so this delegates to
 * systemd's own `systemd-notify` (the unit sets NotifyAccess=all so that a child may report).
 * Invariant: does nothing, and never fails the server, when NOTIFY_SOCKET is not set or the
 * tool is missing.
 */
import { log } from "./log.ts";

/** Sends READY=1 (and a status line) to systemd when running under Type=notify. */
export async function notifySystemdReady(status: string): Promise<void> {
  if (!Deno.env.get("NOTIFY_SOCKET")) return;
  try {
    const out = await new Deno.Command("systemd-notify", {
      args: ["--ready", `--pid=${Deno.pid}`, `--status=${status}`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) log.warn(`systemd-notify failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  } catch (e) {
    log.warn(`cannot notify systemd of readiness: ${(e as Error).message}`);
  }
}
