/**
 * The MLS side of the DAVE delivery service, on ts-mls: the server is an MLS *external sender*
 * (never a member). It signs Add and Remove proposals with its P-256 key, validates the clients'
 * key packages and splits their commits. Parameters are DAVE's: ciphersuite
 * MLS_128_DHKEMP256_AES128GCM_SHA256_P256 (2), basic credentials whose identity is the user id as
 * u64 big-endian, group id = channel id as u64 big-endian.
 */
import { p256 } from "@noble/curves/nist.js";
import {
  decodeMlsMessage,
  encodeExternalSender,
  encodeMlsMessage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  proposeExternal,
  type CiphersuiteImpl,
  type GroupInfo,
  type KeyPackage,
  type MLSMessage,
  type Proposal,
} from "ts-mls";
import { makeProposalRef } from "ts-mls/authenticatedContent.js";
import { decodeKeyPackage, verifyKeyPackage } from "ts-mls/keyPackage.js";
import { bytesEqual, snowflakeToU64BE } from "./mlsCodec.ts";

export const DAVE_CIPHERSUITE = "MLS_128_DHKEMP256_AES128GCM_SHA256_P256" as const;
/** The external sender's credential identity (libdave's test sender uses the same bytes). */
const SENDER_IDENTITY = new Uint8Array([0x00, 0x01, 0x01, 0x00]);

/** A signed proposal ready for op 27, with the reference a valid commit must name. */
export interface SignedProposal {
  message: Uint8Array;
  ref: Uint8Array;
}

/** A client's op 28, split: the commit (an MLSMessage), its proposal references, and the bare Welcome. */
export interface ParsedCommit {
  commit: Uint8Array;
  epoch: bigint;
  refs: Uint8Array[];
  welcome: Uint8Array | null;
}

let suiteLoading: Promise<CiphersuiteImpl> | null = null;
let suite: CiphersuiteImpl | null = null;

export class DaveExternalSender {
  /** Op 25's payload: one ExternalSender (signature key + basic credential). */
  readonly externalSenderBytes: Uint8Array;

  private constructor(
    private readonly cs: CiphersuiteImpl,
    private readonly signKey: Uint8Array,
    private readonly publicKey: Uint8Array,
  ) {
    this.externalSenderBytes = encodeExternalSender({
      signaturePublicKey: publicKey,
      credential: { credentialType: "basic", identity: SENDER_IDENTITY },
    });
  }

  /** Loads the ciphersuite (asynchronous in ts-mls) once per process; `create` needs it. */
  static async prepare(): Promise<void> {
    suiteLoading ??= getCiphersuiteImpl(getCiphersuiteFromName(DAVE_CIPHERSUITE));
    suite = await suiteLoading;
  }

  /** A fresh signing key (one per channel group). Uncompressed P-256 keys are what davey verifies. */
  static create(): DaveExternalSender {
    if (!suite) throw new Error("DaveExternalSender.prepare() must complete first");
    const signKey = p256.utils.randomSecretKey();
    return new DaveExternalSender(suite, signKey, p256.getPublicKey(signKey, false));
  }

  /** Null when the key package is valid for `userId`; otherwise why it is not. */
  async checkKeyPackage(raw: Uint8Array, userId: string): Promise<{ keyPackage: KeyPackage } | { error: string }> {
    const decoded = decodeKeyPackage(raw, 0);
    if (!decoded) return { error: "key package does not decode" };
    const keyPackage = decoded[0];
    if (keyPackage.cipherSuite !== DAVE_CIPHERSUITE) return { error: `ciphersuite ${keyPackage.cipherSuite} is not DAVE's` };
    const credential = keyPackage.leafNode.credential;
    if (credential.credentialType !== "basic" || !bytesEqual(credential.identity, snowflakeToU64BE(userId))) {
      return { error: "credential identity is not the authenticated user id" };
    }
    if (!(await verifyKeyPackage(keyPackage, this.cs.signature))) return { error: "key package signature does not verify" };
    return { keyPackage };
  }

  add(groupId: Uint8Array, epoch: bigint, keyPackage: KeyPackage): Promise<SignedProposal> {
    return this.propose(groupId, epoch, { proposalType: "add", add: { keyPackage } });
  }

  remove(groupId: Uint8Array, epoch: bigint, leaf: number): Promise<SignedProposal> {
    return this.propose(groupId, epoch, { proposalType: "remove", remove: { removed: leaf } });
  }

  /** Splits op 28 at the end of the commit MLSMessage; null when it is not a member's commit. */
  parseCommitWelcome(raw: Uint8Array): ParsedCommit | null {
    let decoded: [MLSMessage, number] | undefined;
    try {
      decoded = decodeMlsMessage(raw, 0);
    } catch {
      return null;
    }
    if (!decoded) return null;
    const [message, length] = decoded;
    if (message.wireformat !== "mls_public_message") return null;
    const { content } = message.publicMessage;
    if (content.contentType !== "commit" || content.sender.senderType !== "member") return null;
    const refs: Uint8Array[] = [];
    for (const p of content.commit.proposals) {
      if (p.proposalOrRefType !== "reference") return null; // DAVE commits name proposals by reference only
      refs.push(p.reference);
    }
    return { commit: raw.subarray(0, length), epoch: content.epoch, refs, welcome: length < raw.length ? raw.subarray(length) : null };
  }

  private async propose(groupId: Uint8Array, epoch: bigint, proposal: Proposal): Promise<SignedProposal> {
    // proposeExternal reads only the group context; external proposals do not sign the tree or
    // transcript hashes, so a stub with the right id, epoch and external_senders extension is enough.
    const groupInfo = {
      groupContext: {
        version: "mls10",
        cipherSuite: DAVE_CIPHERSUITE,
        groupId,
        epoch,
        treeHash: new Uint8Array(),
        confirmedTranscriptHash: new Uint8Array(),
        extensions: [{ extensionType: "external_senders", extensionData: this.externalSenderBytes }],
      },
      extensions: [],
      confirmationTag: new Uint8Array(),
      signer: 0,
      signature: new Uint8Array(),
    } as unknown as GroupInfo;
    const message = await proposeExternal(groupInfo, proposal, this.publicKey, this.signKey, this.cs);
    if (message.wireformat !== "mls_public_message") throw new Error("ts-mls returned a non-public proposal");
    const { content, auth } = message.publicMessage;
    const ref = await makeProposalRef({ wireformat: "mls_public_message", content, auth }, this.cs.hash);
    return { message: encodeMlsMessage(message), ref };
  }
}
