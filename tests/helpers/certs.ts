/**
 * Fresh test certificates for every test run, made by certs/gen-certs.sh (the documented
 * openssl flow) in a temp directory: the main CA with server, replica and client certificates,
 * and a second, unrelated CA with its own set (for "wrong CA" tests).
 *
 * Invariants: nothing is written inside the repository; keys are 2048-bit so a run stays fast;
 * `removeCerts()` deletes the directory.
 */
import { ROOT } from "./server.ts";

/** One CA and the certificates it signed (file paths). */
export interface CertSet {
  /** Directory holding the files. */
  dir: string;
  /** CA certificate. */
  ca: string;
  /** Server certificate and key. */
  serverCert: string;
  serverKey: string;
  /** Replica (client) certificate and key, as `--tls_cert_file`/`--tls_key_file` of a replica. */
  replicaCert: string;
  replicaKey: string;
  /** Client certificate and key (redis-cli --cert/--key). */
  clientCert: string;
  clientKey: string;
}

/** Certificates of two unrelated CAs. */
export interface TestCerts {
  /** The CA the servers trust. */
  main: CertSet;
  /** Another CA: its certificates must be refused. */
  other: CertSet;
  /** Parent temp directory. */
  root: string;
}

async function generate(dir: string, caName: string): Promise<CertSet> {
  const out = await new Deno.Command("sh", {
    args: [`${ROOT}certs/gen-certs.sh`, dir],
    env: { KEY_BITS: "2048", CA_NAME: caName },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`gen-certs.sh failed: ${new TextDecoder().decode(out.stderr)}`);
  return {
    dir,
    ca: `${dir}/ca-cert.pem`,
    serverCert: `${dir}/server-cert.pem`,
    serverKey: `${dir}/server-key.pem`,
    replicaCert: `${dir}/replica-client-cert.pem`,
    replicaKey: `${dir}/replica-client-key.pem`,
    clientCert: `${dir}/client-cert.pem`,
    clientKey: `${dir}/client-key.pem`,
  };
}

/** Generates both certificate sets in a new temp directory. */
export async function makeTestCerts(): Promise<TestCerts> {
  const root = await Deno.makeTempDir({ prefix: "damselfly-certs-" });
  const [main, other] = await Promise.all([
    generate(`${root}/main`, "damselfly test CA"),
    generate(`${root}/other`, "unrelated test CA"),
  ]);
  return { main, other, root };
}

/** Deletes the certificates. */
export async function removeCerts(certs: TestCerts): Promise<void> {
  await Deno.remove(certs.root, { recursive: true }).catch(() => {});
}

/** The flags that make damselfly serve TLS with `set`'s server certificate, mTLS with its CA. */
export function tlsServerFlags(set: CertSet, mtls = true): string[] {
  return [
    "--tls",
    `--tls_cert_file=${set.serverCert}`,
    `--tls_key_file=${set.serverKey}`,
    ...(mtls ? [`--tls_ca_cert_file=${set.ca}`] : []),
  ];
}

/** redis-cli arguments for a TLS connection presenting `set`'s client certificate. */
export function redisCliTlsArgs(set: CertSet, withClientCert = true): string[] {
  return ["--tls", "--cacert", set.ca, ...(withClientCert ? ["--cert", set.clientCert, "--key", set.clientKey] : [])];
}

let shared: Promise<TestCerts> | null = null;

/**
 * Certificates shared by the tests of one test process: generated on first use, deleted when
 * the process exits.
 */
export function sharedTestCerts(): Promise<TestCerts> {
  if (shared === null) {
    shared = makeTestCerts();
    shared.then((c) =>
      globalThis.addEventListener("unload", () => {
        try {
          Deno.removeSync(c.root, { recursive: true });
        } catch {
          // already gone
        }
      })
    );
  }
  return shared;
}
