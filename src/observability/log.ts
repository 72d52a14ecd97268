/**
 * glog-style logging to stderr (and optionally a file in --log_dir).
 *
 * Line format: `Lmmdd hh:mm:ss.uuuuuu pid source] message`, L being I, W, E or F.
 * Invariant: logging never throws and never blocks the event loop on slow disks for long
 * (file writes are synchronous but small).
 */

const LEVELS = ["I", "W", "E", "F"] as const;

/** Logging settings, applied from flags at startup and on CONFIG SET. */
export interface LogSettings {
  /** Least severe level written (0 INFO … 3 FATAL). */
  minLevel: number;
  /** Verbosity for `log.v(n, ...)`. */
  verbosity: number;
  /** Write to stderr. */
  toStderr: boolean;
  /** Directory of the log file, or "". */
  dir: string;
}

const settings: LogSettings = { minLevel: 0, verbosity: 0, toStderr: true, dir: "" };
let file: Deno.FsFile | null = null;
const encoder = new TextEncoder();

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

function caller(): string {
  const stack = new Error().stack?.split("\n")[4] ?? "";
  const m = /([^/\\(]+\.ts):(\d+)/.exec(stack);
  return m ? `${m[1]}:${m[2]}` : "damselfly";
}

function write(level: number, msg: string): void {
  if (level < settings.minLevel) return;
  const d = new Date();
  const us = pad(d.getMilliseconds(), 3) + "000";
  const line = `${LEVELS[level]}${pad(d.getMonth() + 1)}${pad(d.getDate())} ${pad(d.getHours())}:${
    pad(d.getMinutes())
  }:${pad(d.getSeconds())}.${us} ${Deno.pid} ${caller()}] ${msg}\n`;
  const bytes = encoder.encode(line);
  try {
    if (settings.toStderr || !file) Deno.stderr.writeSync(bytes);
    if (file) file.writeSync(bytes);
  } catch {
    // Logging must never take the server down.
  }
}

/** Applies logging flags. */
export function configureLogging(s: Partial<LogSettings>): void {
  Object.assign(settings, s);
  if (s.dir !== undefined) {
    file?.close();
    file = null;
    if (s.dir) {
      try {
        Deno.mkdirSync(s.dir, { recursive: true });
        file = Deno.openSync(`${s.dir}/damselfly.INFO`, { append: true, create: true });
      } catch (e) {
        write(1, `cannot open log file in ${s.dir}: ${(e as Error).message}`);
      }
    }
  }
}

/** The process logger. */
export const log = {
  /** Informational message. */
  info(msg: string): void {
    write(0, msg);
  },
  /** Warning. */
  warn(msg: string): void {
    write(1, msg);
  },
  /** Error. */
  error(msg: string): void {
    write(2, msg);
  },
  /** Verbose message shown when --v is at least `level`. */
  v(level: number, msg: string): void {
    if (settings.verbosity >= level) write(0, msg);
  },
};
