/**
 * The systemd unit passes `systemd-analyze verify`, carries the required hardening, and the
 * example flagfile for the TLS-external / plaintext-admin deployment parses as flags.
 */
import assert from "node:assert/strict";
import { ROOT } from "../helpers/server.ts";
import { Config } from "../../src/config/config.ts";

const UNIT = `${ROOT}scripts/damselfly.service`;

Deno.test("systemd unit verifies and is hardened", async () => {
  const text = await Deno.readTextFile(UNIT);
  for (
    const line of [
      "Type=notify",
      "User=damselfly",
      "ExecStart=/usr/local/bin/damselfly --flagfile=/etc/damselfly/damselfly.flags",
      "Restart=on-failure",
      "NoNewPrivileges=true",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/damselfly",
      "LimitNOFILE=65536",
    ]
  ) assert.ok(text.split("\n").some((l) => l.startsWith(line)), `missing ${line}`);
  // systemd-analyze checks that ExecStart exists: point it at a real executable in a copy.
  const dir = await Deno.makeTempDir();
  try {
    const copy = `${dir}/damselfly.service`;
    await Deno.writeTextFile(copy, text.replaceAll("/usr/local/bin/damselfly", Deno.execPath()));
    const out = await new Deno.Command("systemd-analyze", { args: ["verify", copy], stdout: "piped", stderr: "piped" })
      .output();
    const err = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, err);
    assert.equal(err.trim(), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("example flagfile parses", () => {
  const config = new Config();
  config.parseArgs([`--flagfile=${ROOT}scripts/damselfly.flags.example`], {});
  assert.equal(config.bool("tls"), true);
  assert.equal(config.num("admin_port"), 6380);
  assert.equal(config.bool("no_tls_on_admin_port"), true);
  assert.equal(config.str("snapshot_cron"), "*/30 * * * *");
});
