/**
 * The voice server's TLS certificate. @discordjs/voice opens `wss://${endpoint}?v=8` with
 * `new WebSocket(address)` and no options, so the only ways to make it trust a local server are
 * the process's default CA set: `NODE_EXTRA_CA_CERTS` (read once, when Node starts) for other
 * processes, or `tls.setDefaultCACertificates` (Node >= 22.19) inside a running process.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { randomBytes } from "node:crypto";
import { generate } from "selfsigned";

export class VoiceCertificate {
  private constructor(
    /** PEM of the self-signed certificate (it is its own CA). */
    readonly certPem: string,
    /** PEM of the private key (stays in the simulator process). */
    readonly keyPem: string,
    /** A file holding `certPem`, for `NODE_EXTRA_CA_CERTS` of other processes. */
    readonly caFile: string,
  ) {}

  /** A fresh P-256 certificate for `ip` (SAN IP), valid for a day, written to a temp file. */
  static async create(ip = "127.0.0.1"): Promise<VoiceCertificate> {
    const now = Date.now();
    // A unique subject per certificate: OpenSSL finds a trust anchor by subject name, so two
    // simulators in one process with the same name would shadow each other.
    const unique = randomBytes(6).toString("hex");
    const pems = await generate([{ name: "commonName", value: `spell-coven-sim-voice ${ip} ${unique}` }], {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      notBeforeDate: new Date(now - 60_000),
      notAfterDate: new Date(now + 86_400_000),
      extensions: [
        { name: "basicConstraints", cA: true },
        { name: "keyUsage", digitalSignature: true, keyCertSign: true },
        { name: "extKeyUsage", serverAuth: true },
        { name: "subjectAltName", altNames: [{ type: 7, ip }] },
      ],
    });
    const caFile = join(tmpdir(), `spell-coven-sim-voice-ca-${process.pid}-${randomBytes(4).toString("hex")}.pem`);
    writeFileSync(caFile, pems.cert);
    return new VoiceCertificate(pems.cert, pems.private, caFile);
  }

  /**
   * Adds this certificate to the running process's default CA set, so in-process clients
   * (the simulated people, tests running @discordjs/voice) accept the voice server. Idempotent.
   */
  trustInThisProcess(): void {
    const current = getCACertificates("default");
    if (current.includes(this.certPem)) return;
    setDefaultCACertificates([...current, this.certPem]);
  }
}
