/**
 * TLS: server contexts built from the tls_* flags, Dragonfly's startup validation rules, the
 * replica's client-side TLS options, and a ByteStream adapter over node:net / node:tls sockets so
 * that TLS clients run the very same Connection read/parse/dispatch/write loop as plaintext ones.
 *
 * Why node:tls: `Deno.listenTls` cannot request or verify client certificates; node:tls under
 * Deno can (`requestCert` + `rejectUnauthorized` + `ca`), which is what mTLS needs.
 * Invariants: a context is built only from files that parsed (key, certificate chain matching
 * the key, every CA certificate), so a bad file is reported by name before any listener uses
 * it; TLS 1.2 is the minimum; with a CA every client must present a certificate it signed.
 */
import type net from "node:net";
import type tls from "node:tls";
import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { FlagValue } from "../config/flag_table.ts";
import type { ByteStream } from "./connection.ts";

/** Read access to flag values: a Config, or the values a CONFIG SET is about to set. */
export interface FlagReader {
  /** String flag value. */
  str(name: string): string;
  /** Boolean flag value. */
  bool(name: string): boolean;
}

/** A FlagReader over a CONFIG SET validator's lookup (staged values first, then current ones). */
export function stagedFlags(lookup: (name: string) => FlagValue): FlagReader {
  return { str: (n) => lookup(n) as string, bool: (n) => lookup(n) as boolean };
}

/** A TLS setting that cannot work; the message is shown as is (log line, exit 1, CONFIG SET). */
export class TlsConfigError extends Error {
  /** Creates an error whose message names the flag or file at fault. */
  constructor(message: string) {
    super(message);
    this.name = "TlsConfigError";
  }
}

/** The certificate material of a TLS context, as PEM text. */
export interface TlsMaterial {
  /** Private key. */
  key: string;
  /** Certificate chain (may be absent: Dragonfly allows a key alone). */
  cert?: string;
  /** CA certificates that client (or primary) certificates must chain to. */
  ca?: string[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readPem(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    const reason = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (e as Error).message;
    throw new TlsConfigError(`Failed to load TLS ${what} from '${path}': ${reason}`);
  }
}

/** Splits a PEM bundle into certificates, checking that each one parses. */
function parseCerts(text: string, path: string, what: string): string[] {
  const certs = text.match(PEM_CERT) ?? [];
  if (certs.length === 0) {
    throw new TlsConfigError(`Failed to load TLS ${what} from '${path}': no PEM certificate in it`);
  }
  for (const pem of certs) {
    try {
      new X509Certificate(pem);
    } catch (e) {
      throw new TlsConfigError(`Failed to load TLS ${what} from '${path}': ${(e as Error).message}`);
    }
  }
  return certs;
}

/** Reads the CA certificates of `tls_ca_cert_file` and every certificate file in `tls_ca_cert_dir`. */
function loadCa(caFile: string, caDir: string): string[] | undefined {
  if (caFile === "" && caDir === "") return undefined;
  const out: string[] = [];
  if (caFile !== "") out.push(...parseCerts(readPem(caFile, "CA certificate"), caFile, "CA certificate"));
  if (caDir !== "") {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(caDir)];
    } catch (e) {
      throw new TlsConfigError(`Failed to load TLS CA certificate directory '${caDir}': ${(e as Error).message}`);
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!e.isFile && !e.isSymlink) continue;
      const path = `${caDir}/${e.name}`;
      let text: string;
      try {
        text = Deno.readTextFileSync(path);
      } catch {
        continue;
      }
      if (text.includes("-----BEGIN CERTIFICATE-----")) out.push(...parseCerts(text, path, "CA certificate"));
    }
    if (out.length === 0) {
      throw new TlsConfigError(`Failed to load TLS CA certificate directory '${caDir}': no certificates in it`);
    }
  }
  return out;
}

/**
 * Loads and checks the key, certificate and CA named by the tls_* flags (Dragonfly's
 * CreateSslCntx rules: the key is required, the certificate is optional but must match the key).
 */
export function loadTlsMaterial(config: FlagReader): TlsMaterial {
  const keyFile = config.str("tls_key_file");
  if (keyFile === "") {
    throw new TlsConfigError("To use TLS, a server certificate must be provided with the --tls_key_file flag!");
  }
  const key = readPem(keyFile, "key");
  let parsedKey;
  try {
    parsedKey = createPrivateKey(key);
  } catch (e) {
    throw new TlsConfigError(`Failed to load TLS key from '${keyFile}': ${(e as Error).message}`);
  }
  const certFile = config.str("tls_cert_file");
  let cert: string | undefined;
  if (certFile !== "") {
    cert = readPem(certFile, "certificate");
    const [leaf] = parseCerts(cert, certFile, "certificate");
    if (!new X509Certificate(leaf).checkPrivateKey(parsedKey)) {
      throw new TlsConfigError(
        `Failed to load TLS certificate from '${certFile}': it does not match the private key in '${keyFile}'`,
      );
    }
  }
  const ca = loadCa(config.str("tls_ca_cert_file"), config.str("tls_ca_cert_dir"));
  return { key, cert, ca };
}

/** A client that has not finished its TLS handshake by then is disconnected. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** node:tls server options for `material`: mTLS (required client certificates) when a CA is set. */
export function serverTlsOptions(material: TlsMaterial): tls.TlsOptions {
  const mtls = material.ca !== undefined;
  return {
    key: material.key,
    cert: material.cert,
    ca: material.ca,
    requestCert: mtls,
    rejectUnauthorized: mtls,
    minVersion: "TLSv1.2",
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  };
}

/**
 * Dragonfly's check of the server TLS flags (ValidateServerTlsFlags): with `--tls`, clients
 * must authenticate somehow, by password or by a certificate a CA signed. Returns the problem
 * as Dragonfly logs it, or null.
 */
export function validateServerTls(config: FlagReader): string | null {
  if (!config.bool("tls")) return null;
  const hasCa = config.str("tls_ca_cert_file") !== "" || config.str("tls_ca_cert_dir") !== "";
  if (config.str("requirepass") === "" && !hasCa) return "TLS configured but no authentication method is used!";
  return null;
}

/**
 * Dragonfly's check of the replica TLS flags (ValidateClientTlsFlags): with
 * `--tls_replication`, the replica authenticates with its certificate (key and cert) or with
 * `masterauth`. Returns the problem as Dragonfly logs it, or null.
 */
export function validateReplicationTls(config: FlagReader): string | null {
  if (!config.bool("tls_replication")) return null;
  let hasAuth = false;
  if (config.str("tls_key_file") !== "") {
    if (config.str("tls_cert_file") === "") return "tls_cert_file flag should be set";
    hasAuth = true;
  }
  if (config.str("masterauth") !== "") hasAuth = true;
  return hasAuth ? null : "No authentication method configured!";
}

/**
 * Options for `Deno.connectTls` on replication links when `--tls_replication` is on: the
 * replica presents its own key and certificate and verifies the primary with the CA when one
 * is set. Null when replication runs in plaintext (flag off, or no key: Dragonfly then falls
 * back to a plaintext socket).
 */
export function replicaTlsOptions(config: FlagReader): { caCerts?: string[]; cert?: string; key: string } | null {
  if (!config.bool("tls_replication") || config.str("tls_key_file") === "") return null;
  const m = loadTlsMaterial(config);
  return { key: m.key, cert: m.cert, caCerts: m.ca };
}

/** SHA-256 fingerprint (`AB:CD:...`) of the first certificate in a PEM text. */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Queued bytes at which a socket stops reading until the connection catches up. */
const READ_HIGH_WATER = 256 * 1024;
/** Queued bytes below which a paused socket reads again. */
const READ_LOW_WATER = 64 * 1024;
/** How long a closing socket may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 5_000;

/**
 * A node:net or node:tls socket as a ByteStream: `read()` takes bytes queued by 'data'
 * events (pausing the socket while too much is queued), `write()` resolves from the write
 * callback, so Connection's back-pressure works unchanged.
 */
export class SocketByteStream implements ByteStream {
  private queue: Buffer[] = [];
  private head = 0;
  private queued = 0;
  private paused = false;
  private ended = false;
  private closing = false;
  private waiter: (() => void) | null = null;

  /** Queues the socket's data (pausing it past the high-water mark) and notes its end. */
  constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.queue.push(chunk);
      this.queued += chunk.length;
      if (this.queued >= READ_HIGH_WATER && !this.paused) {
        this.paused = true;
        socket.pause();
      }
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  /** Resolves the pending read, if any. */
  private wake(): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w();
    }
  }

  /** Copies queued bytes into `buf`; resumes a paused socket once the queue is short. */
  private take(buf: Uint8Array): number {
    let n = 0;
    while (n < buf.length && this.queue.length > 0) {
      const chunk = this.queue[0];
      const avail = chunk.length - this.head;
      const len = Math.min(avail, buf.length - n);
      buf.set(chunk.subarray(this.head, this.head + len), n);
      n += len;
      if (len === avail) {
        this.queue.shift();
        this.head = 0;
      } else {
        this.head += len;
      }
    }
    this.queued -= n;
    if (this.paused && this.queued < READ_LOW_WATER && !this.ended) {
      this.paused = false;
      this.socket.resume();
    }
    return n;
  }

  /** Reads into `buf`; null at EOF. */
  read(buf: Uint8Array): Promise<number | null> {
    if (this.queued > 0) return Promise.resolve(this.take(buf));
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = () => resolve(this.queued > 0 ? this.take(buf) : null);
    });
  }

  /** Writes all of `data`; resolves once the socket took it. */
  write(data: Uint8Array): Promise<number> {
    if (this.closing || this.socket.destroyed) return Promise.reject(new Error("socket closed"));
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve(data.length)));
    });
  }

  /** Ends the stream (flushing what was written, TLS close_notify included), then destroys it. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.ended = true;
    this.wake();
    const socket = this.socket;
    if (socket.destroyed) return;
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    Deno.unrefTimer(timer);
    socket.once("close", () => clearTimeout(timer));
    socket.end();
  }
}
