/**
 * The status page served at `GET /` on the HTTP console: one small, self-refreshing HTML page
 * for people (role, replicas with state and lag, the link to the primary, keys, memory, ops/s).
 *
 * Invariants: the page is self-contained (inline style, no scripts, no external assets; the
 * console serves it with a CSP that forbids everything else); every value placed in it is
 * HTML-escaped; it refreshes itself every REFRESH_SECONDS with a meta refresh; rendering only
 * reads state that other modules own.
 */
import type { Server } from "../server/server.ts";
import { bytesToHuman, infoSampler, usedMemory } from "./info.ts";
import { primaryOf } from "../replication/primary.ts";
import { currentReplica } from "../replication/replica.ts";

/** Seconds between automatic reloads of the page. */
export const REFRESH_SECONDS = 2;

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A two-column table row. */
function row(label: string, value: string | number, id: string): string {
  return `<tr><th>${escapeHtml(label)}</th><td id="${escapeHtml(id)}">${escapeHtml(value)}</td></tr>`;
}

function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m ${s}s` : `${m}m ${s}s`;
}

function serverTable(server: Server): string {
  let clients = 0;
  for (const c of server.clients.values()) if (!c.isReplica && c.origin !== "internal") clients++;
  let keys = 0;
  for (const st of server.store.keyspace().values()) keys += st.keys;
  const used = usedMemory();
  const rss = Deno.memoryUsage().rss;
  return `<table id="server">
${row("Role", server.isReplica ? "replica" : "master", "role")}
${row("Version", server.version, "version")}
${row("Uptime", formatUptime(Math.floor((Date.now() - server.startTime) / 1000)), "uptime")}
${row("Connected clients", clients, "clients")}
${row("Ops/s", infoSampler(server).opsPerSec, "ops")}
${row("Keys", keys, "keys")}
${row("Memory used", `${bytesToHuman(used)} (${used} bytes)`, "memory")}
${row("Memory RSS", `${bytesToHuman(rss)} (${rss} bytes)`, "rss")}
</table>`;
}

function replicasSection(server: Server): string {
  const primary = primaryOf(server);
  const rows: string[] = [];
  for (const s of primary.sessions.values()) {
    rows.push(
      `<tr class="replica"><td class="addr">${escapeHtml(s.ip)}:${escapeHtml(s.port)}</td>` +
        `<td class="state">${escapeHtml(primary.stateName(s.state))}</td>` +
        `<td class="lag">${escapeHtml(primary.lag(s))}</td></tr>`,
    );
  }
  const body = rows.length > 0
    ? rows.join("\n")
    : `<tr><td colspan="3" id="no-replicas">no replicas connected</td></tr>`;
  return `<h2>Replicas (${escapeHtml(rows.length)})</h2>
<table id="replicas">
<tr><th>Replica</th><th>State</th><th>Lag (records)</th></tr>
${body}
</table>`;
}

function primarySection(server: Server): string {
  const replica = currentReplica(server);
  if (replica === null) return "";
  const link = replica.linkStatus();
  return `<h2>Primary</h2>
<table id="primary">
${row("Primary", `${replica.host}:${replica.port}`, "master")}
${row("Link", link.up ? "up" : "down", "link")}
${row("State", replica.state, "sync-state")}
${row("Last I/O", `${link.lastIoSecondsAgo} s ago`, "last-io")}
${row("Offset", link.offset ?? "-", "offset")}
${row("Reconnects", replica.reconnects, "reconnects")}
${row("Partial syncs", `${replica.psyncSuccesses} of ${replica.psyncAttempts} attempts`, "psync")}
</table>`;
}

function keyspaceSection(server: Server): string {
  const rows: string[] = [];
  for (const [db, st] of server.store.keyspace()) {
    if (st.keys === 0) continue;
    rows.push(
      `<tr><td>db${escapeHtml(db)}</td><td class="keys">${escapeHtml(st.keys)}</td><td>${
        escapeHtml(st.expires)
      }</td></tr>`,
    );
  }
  if (rows.length === 0) return `<h2>Keyspace</h2>\n<p id="empty">no keys</p>`;
  return `<h2>Keyspace</h2>
<table id="keyspace">
<tr><th>Database</th><th>Keys</th><th>With TTL</th></tr>
${rows.join("\n")}
</table>`;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse}th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
th{font-weight:600}footer{margin-top:2em;color:#777;font-size:.9em}`;

/** The status page of `server` as a complete HTML document. */
export function renderStatusPage(server: Server): string {
  const role = server.isReplica ? "replica" : "master";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>damselfly ${escapeHtml(role)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>damselfly ${escapeHtml(server.version)} — ${escapeHtml(role)}</h1>
${serverTable(server)}
${server.isReplica ? primarySection(server) : replicasSection(server)}
${keyspaceSection(server)}
<footer>Refreshes every ${REFRESH_SECONDS} s. Prometheus metrics: <a href="/metrics">/metrics</a></footer>
</body>
</html>
`;
}
