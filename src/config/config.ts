/**
 * Config: parsed flag values, abseil-compatible command-line parsing, CONFIG GET/SET.
 *
 * Owns: the current value of every flag in FLAG_TABLE. Invariants: values always have the
 * flag's type; CONFIG SET of several pairs is all-or-nothing; parsing never reads sockets or
 * data.
 */
import { FLAG_ALIASES, FLAG_TABLE, type FlagSpec, type FlagValue } from "./flag_table.ts";
import { globMatch } from "../util/glob.ts";

/** A bad flag or value; the message is the single line printed before exiting 1. */
export class FlagError extends Error {
  /** Creates an error whose message is shown to the user as is. */
  constructor(message: string) {
    super(message);
    this.name = "FlagError";
  }
}

const SPECS = new Map<string, FlagSpec>(FLAG_TABLE.map((f) => [f.name, f]));

/** Finds a flag by any accepted spelling (dashes and underscores, Redis aliases). */
export function findFlag(name: string): FlagSpec | undefined {
  const lower = name.toLowerCase();
  const direct = SPECS.get(lower) ?? SPECS.get(FLAG_ALIASES[lower] ?? "");
  if (direct) return direct;
  return SPECS.get(lower.replaceAll("-", "_")) ?? SPECS.get(lower.replaceAll("_", "-"));
}

/** Parses a byte size such as `512mb`, `1gb`, `100k` or `4096` (units are powers of 1024). */
export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$/i.exec(text);
  if (!m) return null;
  const mult: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  if (m[2] === "" && m[3] !== "" && m[3].toLowerCase() !== "b") return null;
  const v = Math.floor(parseFloat(m[1]) * mult[m[2].toLowerCase()]);
  return Number.isSafeInteger(v) ? v : null;
}

/** Parses a boolean the way abseil and Redis accept it. */
export function parseBool(text: string): boolean | null {
  const t = text.toLowerCase();
  if (["true", "t", "yes", "y", "1", "on"].includes(t)) return true;
  if (["false", "f", "no", "n", "0", "off"].includes(t)) return false;
  return null;
}

/** Converts text to a typed value for `spec`; returns an error reason on failure. */
export function parseFlagValue(spec: FlagSpec, text: string): FlagValue | { error: string } {
  if (spec.parse) return spec.parse(text);
  switch (spec.type) {
    case "bool": {
      const b = parseBool(text);
      return b === null ? { error: "argument must be 'yes' or 'no'" } : b;
    }
    case "int":
    case "uint": {
      if (!/^\s*[-+]?\d+\s*$/.test(text)) return { error: "argument couldn't be parsed into an integer" };
      const n = Number(text);
      if (!Number.isSafeInteger(n)) return { error: "argument couldn't be parsed into an integer" };
      const min = spec.min ?? (spec.type === "uint" ? 0 : undefined);
      if ((min !== undefined && n < min) || (spec.max !== undefined && n > spec.max)) {
        return {
          error: `argument must be between ${min ?? "-9223372036854775808"} and ${
            spec.max ?? "9223372036854775807"
          } inclusive`,
        };
      }
      return n;
    }
    case "double": {
      const n = Number(text);
      return text.trim() === "" || Number.isNaN(n) ? { error: "argument couldn't be parsed into a number" } : n;
    }
    case "bytes": {
      const n = parseBytes(text);
      if (n === null) return { error: "argument must be a memory value" };
      if (spec.min !== undefined && n < spec.min) return { error: `argument must be at least ${spec.min}` };
      return n;
    }
    case "list":
      return text === "" ? [] : text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    case "string":
      if (spec.choices && !spec.choices.includes(text.toLowerCase())) {
        return { error: "argument(s) must be one of the following: " + spec.choices.join(", ") };
      }
      return spec.choices ? text.toLowerCase() : text;
  }
}

/** What command-line parsing produced besides flag values. */
export interface ParsedArgs {
  /** --help was given. */
  help: boolean;
  /** --version was given. */
  version: boolean;
  /** The --flagfile used, if any (CONFIG REWRITE writes back to it). */
  flagfile: string | null;
}

/**
 * A CONFIG SET check of one flag: receives the new value and a lookup that returns the value
 * each flag will have after the CONFIG SET; returns the rejection reason or null.
 */
export type FlagValidator = (value: FlagValue, lookup: (name: string) => FlagValue) => string | null;

/** Current values of every flag, with change listeners for mutable ones. */
export class Config {
  private values = new Map<string, FlagValue>();
  private listeners = new Map<string, ((v: FlagValue) => void)[]>();
  /** The flags given explicitly (command line, flagfile, env, CONFIG SET). */
  readonly explicit = new Set<string>();
  /** Path of the flagfile, if the server was started with one. */
  flagfile: string | null = null;
  /** Flags whose value came only from a DFLY_* environment variable (CONFIG REWRITE skips them). */
  private readonly fromEnv = new Set<string>();
  /**
   * Bumped by every change of a value: code that derives something from flags on a hot path
   * keeps the result while the generation stays the same.
   */
  generation = 0;
  /** Checks CONFIG SET runs before changing a flag (see `addValidator`). */
  private readonly validators = new Map<string, FlagValidator>();

  constructor() {
    for (const f of FLAG_TABLE) this.values.set(f.name, Array.isArray(f.default) ? [...f.default] : f.default);
  }

  /** Raw value of a flag. */
  get(name: string): FlagValue {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`unknown flag ${name}`);
    return v;
  }

  /** Numeric flag value. */
  num(name: string): number {
    return this.get(name) as number;
  }

  /** String flag value. */
  str(name: string): string {
    return this.get(name) as string;
  }

  /** Boolean flag value. */
  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  /** List flag value. */
  list(name: string): string[] {
    return this.get(name) as string[];
  }

  /** Sets a typed value and notifies listeners (no mutability check). */
  setValue(name: string, value: FlagValue): void {
    this.values.set(name, value);
    this.generation++;
    this.explicit.add(name);
    for (const cb of this.listeners.get(name) ?? []) cb(value);
  }

  /**
   * Registers a check that CONFIG SET runs before changing `name`; it sees the values the
   * other pairs of the same CONFIG SET are about to set. A returned text rejects the whole
   * CONFIG SET with that reason.
   */
  addValidator(name: string, check: FlagValidator): void {
    this.validators.set(name, check);
  }

  /** Runs `cb` whenever `name` changes. */
  onChange(name: string, cb: (v: FlagValue) => void): void {
    let arr = this.listeners.get(name);
    if (!arr) this.listeners.set(name, arr = []);
    arr.push(cb);
  }

  /** Formats a value the way CONFIG GET reports it. */
  format(spec: FlagSpec): string {
    const v = this.get(spec.name);
    if (typeof v === "boolean") {
      return spec.name.includes("-") || spec.name === "appendonly" ? (v ? "yes" : "no") : (v ? "true" : "false");
    }
    if (Array.isArray(v)) return v.join(",");
    return String(v);
  }

  /** CONFIG GET: [name, value] pairs of every flag matching any of the glob patterns. */
  getMatching(patterns: string[]): [string, string][] {
    const out = new Map<string, string>();
    for (const pattern of patterns) {
      const exact = findFlag(pattern);
      if (exact && !/[*?[]/.test(pattern)) {
        out.set(pattern.toLowerCase(), this.format(exact));
        continue;
      }
      for (const f of FLAG_TABLE) {
        if (globMatch(pattern, f.name, true) || globMatch(pattern, f.name.replaceAll("_", "-"), true)) {
          out.set(f.name, this.format(f));
        }
      }
      for (const [alias, target] of Object.entries(FLAG_ALIASES)) {
        if (globMatch(pattern, alias, true)) out.set(alias, this.format(SPECS.get(target)!));
      }
    }
    return [...out];
  }

  /**
   * CONFIG SET with name/value pairs, atomically. Returns null on success or Redis's error
   * text; nothing changes on error.
   */
  setPairs(pairs: [string, string][], validate?: (spec: FlagSpec, value: FlagValue) => string | null): string | null {
    const staged: [FlagSpec, FlagValue][] = [];
    const seen = new Set<string>();
    for (const [name, text] of pairs) {
      const spec = findFlag(name);
      if (!spec) return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
      const fail = (why: string) => `ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`;
      if (seen.has(spec.name)) return fail("duplicate parameter");
      seen.add(spec.name);
      if (!spec.mutable) return fail("can't set immutable config");
      const v = parseFlagValue(spec, text);
      if (typeof v === "object" && !Array.isArray(v)) return fail(v.error);
      const bad = validate?.(spec, v);
      if (bad) return fail(bad);
      staged.push([spec, v]);
    }
    if (this.validators.size > 0) {
      const lookup = (n: string) => staged.find(([spec]) => spec.name === n)?.[1] ?? this.get(n);
      for (let i = 0; i < staged.length; i++) {
        const bad = this.validators.get(staged[i][0].name)?.(staged[i][1], lookup);
        if (bad) return `ERR CONFIG SET failed (possibly related to argument '${pairs[i][0]}') - ${bad}`;
      }
    }
    for (const [spec, v] of staged) {
      this.setValue(spec.name, v);
      this.fromEnv.delete(spec.name);
    }
    return null;
  }

  /** One flagfile line that sets `spec` to its current value. */
  private flagLine(spec: FlagSpec): string {
    const v = this.get(spec.name);
    return `--${spec.name}=${Array.isArray(v) ? v.join(",") : String(v)}`;
  }

  /**
   * CONFIG REWRITE: rewrites the flagfile so it holds the current value of every flag set
   * explicitly (command line, flagfile, CONFIG SET; not environment-only values). Comments,
   * blank lines and line order are kept; flags not in the file are appended. The file is
   * replaced atomically. Returns null on success or the reason of the failure.
   */
  rewriteFlagfile(): string | null {
    const path = this.flagfile;
    if (path === null) return "The server is running without a config file";
    let lines: string[];
    try {
      lines = Deno.readTextFileSync(path).split("\n");
    } catch (e) {
      return (e as Error).message;
    }
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    const written = new Set<string>();
    const out: string[] = [];
    for (const raw of lines) {
      const line = raw.trim();
      const name = line.startsWith("-") ? line.replace(/^--?/, "").split("=")[0] : "";
      let spec = name === "" ? undefined : findFlag(name);
      if (!spec && name.startsWith("no")) spec = findFlag(name.slice(2));
      if (!spec) {
        out.push(raw);
        continue;
      }
      if (written.has(spec.name)) continue;
      written.add(spec.name);
      out.push(this.flagLine(spec));
    }
    for (const f of FLAG_TABLE) {
      if (this.explicit.has(f.name) && !written.has(f.name) && !this.fromEnv.has(f.name)) out.push(this.flagLine(f));
    }
    const tmp = `${path}.rewrite-${Deno.pid}`;
    try {
      Deno.writeTextFileSync(tmp, out.join("\n") + "\n");
      Deno.renameSync(tmp, path);
    } catch (e) {
      try {
        Deno.removeSync(tmp);
      } catch {
        // nothing to clean up
      }
      return (e as Error).message;
    }
    return null;
  }

  /**
   * Parses argv (abseil syntax), then the flagfile, then DFLY_* environment variables for
   * flags not given. Throws FlagError with one clear line on any problem.
   */
  parseArgs(argv: string[], env: Record<string, string> = {}): ParsedArgs {
    const result: ParsedArgs = { help: false, version: false, flagfile: null };
    const given = new Set<string>();
    const apply = (spec: FlagSpec, text: string, origin: string) => {
      const v = parseFlagValue(spec, text);
      if (typeof v === "object" && !Array.isArray(v)) {
        throw new FlagError(`ERROR: Illegal value '${text}' specified for flag '${spec.name}'${origin}: ${v.error}`);
      }
      this.setValue(spec.name, v);
      given.add(spec.name);
    };
    const parseList = (args: string[], origin: string) => {
      for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (!arg.startsWith("-") || arg === "-" || arg === "--") {
          throw new FlagError(`ERROR: unexpected positional argument '${arg}'${origin}`);
        }
        const body = arg.replace(/^--?/, "");
        const eq = body.indexOf("=");
        const name = eq === -1 ? body : body.slice(0, eq);
        let value: string | null = eq === -1 ? null : body.slice(eq + 1);
        if (name === "help" || name === "helpfull") {
          result.help = true;
          continue;
        }
        if (name === "version") {
          result.version = true;
          continue;
        }
        if (name === "flagfile") {
          if (value === null) {
            if (i + 1 >= args.length) throw new FlagError(`ERROR: Missing the value for the flag 'flagfile'`);
            value = args[++i];
          }
          result.flagfile = value;
          this.flagfile = value;
          parseList(readFlagfile(value), ` in flagfile ${value}`);
          continue;
        }
        let spec = findFlag(name);
        if (!spec && value === null && name.startsWith("no")) {
          const neg = findFlag(name.slice(2));
          if (neg && neg.type === "bool") {
            this.setValue(neg.name, false);
            given.add(neg.name);
            continue;
          }
        }
        if (!spec) throw new FlagError(`ERROR: Unknown command line flag '${name}'${origin}`);
        if (value === null) {
          if (spec.type === "bool") value = "true";
          else {
            if (i + 1 >= args.length) {
              throw new FlagError(`ERROR: Missing the value for the flag '${spec.name}'${origin}`);
            }
            value = args[++i];
          }
        }
        apply(spec, value, origin);
        spec = undefined;
      }
    };
    parseList(argv, "");
    for (const [k, text] of Object.entries(env)) {
      if (!k.startsWith("DFLY_")) continue;
      const name = k.slice(5);
      if (name === "PASSWORD") {
        if (!given.has("requirepass")) {
          apply(SPECS.get("requirepass")!, text, " (from DFLY_PASSWORD)");
          this.fromEnv.add("requirepass");
        }
        continue;
      }
      const spec = findFlag(name);
      if (spec && !given.has(spec.name)) {
        apply(spec, text, ` (from ${k})`);
        this.fromEnv.add(spec.name);
      }
    }
    return result;
  }
}

/** Reads a flagfile: one flag per line, blank lines and `#` comments ignored. */
export function readFlagfile(path: string): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new FlagError(`ERROR: cannot read flagfile '${path}': ${(e as Error).message}`);
  }
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    out.push(line);
  }
  return out;
}

/** The --help text: every flag with its type, default and help line. */
export function helpText(version: string): string {
  const lines = [`damselfly ${version}: a Redis- and Dragonfly-compatible in-memory data store`, "", "Flags:"];
  for (const f of FLAG_TABLE) {
    const def = JSON.stringify(Array.isArray(f.default) ? f.default.join(",") : f.default);
    lines.push(`  --${f.name} (${f.help}); type: ${f.type}; default: ${def};`);
  }
  lines.push('  --flagfile (file with one flag per line); type: string; default: "";');
  lines.push("  --help (show this help); type: bool; default: false;");
  lines.push("  --version (show the version and exit); type: bool; default: false;");
  return lines.join("\n") + "\n";
}
