/**
 * An in-process server for tests that must observe what a socket cannot show: the recorded
 * (journaled) form of writes, keyspace notifications, and values of types whose command
 * family may not exist yet.
 *
 * Invariant: commands go through the real dispatcher and handlers; no timers are started,
 * so a test owns the clock of everything it runs.
 */
import { Buffer } from "node:buffer";
import { Config } from "../../src/config/config.ts";
import { Server } from "../../src/server/server.ts";
import { Client } from "../../src/server/client.ts";
import { RespWriter } from "../../src/resp/writer.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";

/** One write as recorded for the journal and replicas. */
export interface RecordedWrite {
  /** Database the write applies to. */
  db: number;
  /** Its deterministic argument vector. */
  args: string[];
}

/** A server plus one client, driven synchronously. */
export class InProcessServer {
  /** The server state. */
  readonly server: Server;
  /** The client that runs `call`. */
  readonly client: Client;
  /** Every recorded write, in order. */
  readonly writes: RecordedWrite[] = [];
  /** Every published keyspace notification as [channel, message]. */
  readonly published: [string, string][] = [];
  private readonly writer = new RespWriter();

  constructor(flags: string[] = []) {
    const config = new Config();
    config.parseArgs(flags, {});
    this.server = new Server(config);
    this.server.writeObservers.push({ onWrite: (db, args) => this.writes.push({ db, args: [...args] }) });
    // Keyspace notifications and PUBLISH both end in the pub/sub registry's publish.
    this.server.pubsub.publish = (channel, message) => {
      this.published.push([channel, message]);
      return 0;
    };
    this.client = new Client(this.server, this.writer, "internal");
  }

  /** Runs one command and returns its raw RESP reply as a latin1 string. */
  call(...args: string[]): string {
    const r = dispatch(this.client, args);
    if (r instanceof Promise) throw new Error(`${args[0]} blocked in an in-process test`);
    return Buffer.from(this.writer.take()).toString("latin1");
  }

  /**
   * Recorded command vectors without the MULTI/EXEC markers that group the per-key records of
   * one command (or a transaction) into one unit.
   */
  commands(): string[][] {
    return this.writes.map((w) => w.args).filter((a) => a[0] !== "MULTI" && a[0] !== "EXEC");
  }

  /** Forgets recorded writes and notifications. */
  clearRecords(): void {
    this.writes.length = 0;
    this.published.length = 0;
  }
}
