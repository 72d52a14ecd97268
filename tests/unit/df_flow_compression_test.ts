/**
 * The blob codecs of Dragonfly flows: xxHash32 vectors, the LZ4 frame decoder on frames from the
 * real `lz4` tool and on Dragonfly's own blob, LZ4 round trips (multi-block, incompressible,
 * overlapping matches), corruption and bomb detection, and ZSTD decoding limits.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as zlib from "node:zlib";
import {
  CompressionError,
  lz4FrameCompress,
  lz4FrameDecompress,
  xxh32,
  zstdDecompress,
} from "../../src/replication/compression.ts";
import { assertThrows, bytesOf, fixture, SESSIONS } from "./df_flow_testlib.ts";

const TEXT = "hello hello hello hello dragonfly replication dragonfly replication 0123456789 0123456789 0123456789";
/** `lz4 -BX --content-size`: block checksums, content checksum, content size (lz4 1.9.4). */
const CLI_CHECKSUMS =
  "BCJNGHxAZAAAAAAAAABeNgAAAG5oZWxsbyAGAP8GZHJhZ29uZmx5IHJlcGxpY2F0aW9uFgAErTAxMjM0NTY3ODkLAFA1Njc4OZOQ0pcAAAAArIgh+g==";
/** `lz4 -BD --no-frame-crc`: linked blocks, no checksums, no content size. */
const CLI_PLAIN = "BCJNGGBAgjYAAABuaGVsbG8gBgD/BmRyYWdvbmZseSByZXBsaWNhdGlvbhYABK0wMTIzNDU2Nzg5CwBQNTY3ODkAAAAA";

/** `zstd` 1.5 CLI on a file: single segment, content size 100 in the header, content checksum. */
const CLI_ZSTD = "KLUv/SRkjQEAVAJoZWxsbyBkcmFnb25mbHkgcmVwbGljYXRpb24wMTIzNDU2Nzg5AwAuCpqzZvFKETsdexA=";

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

Deno.test("xxHash32 known vectors", () => {
  assert.equal(xxh32(new Uint8Array(0)), 0x02cc5d05);
  assert.equal(xxh32(bytesOf("abc")), 0x32d153ff);
  assert.equal(xxh32(bytesOf("Nobody inspects the spammish repetition")), 0xe2293b2f);
});

Deno.test("LZ4: frames written by the lz4 tool and by Dragonfly decode", () => {
  assert.deepEqual(lz4FrameDecompress(b64(CLI_CHECKSUMS)), bytesOf(TEXT));
  assert.deepEqual(lz4FrameDecompress(b64(CLI_PLAIN)), bytesOf(TEXT));
  const df = fixture(SESSIONS[1], "conn2.primary-to-replica.bin").subarray(199, 355);
  const plain = fixture(SESSIONS[0], "conn2.primary-to-replica.bin").subarray(196, 3321);
  const out = lz4FrameDecompress(df);
  assert.equal(out.length, 3125);
  // Identical to the uncompressed session's records except the 2 bytes of the other expiry time.
  assert.equal(out.filter((b, i) => b !== plain[i]).length, 2);
});

Deno.test("LZ4: round trips, with Dragonfly's frame layout", () => {
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  const inputs = [
    new Uint8Array(0),
    bytesOf("a"),
    bytesOf("abcdefghijklm"),
    new Uint8Array(200000).fill(0x7a),
    Uint8Array.from({ length: 150000 }, () => rand()),
    Uint8Array.from({ length: 300000 }, (_, i) => (i % 1000 < 500 ? i & 7 : rand())),
    bytesOf("ab".repeat(40000) + TEXT.repeat(50)),
  ];
  for (const input of inputs) {
    const frame = lz4FrameCompress(input);
    assert.deepEqual([...frame.subarray(0, 6)], [0x04, 0x22, 0x4d, 0x18, 0x68, 0x40]);
    assert.deepEqual(lz4FrameDecompress(frame), input, `${input.length} bytes`);
  }
  assert(lz4FrameCompress(new Uint8Array(200000)).length < 2000);
  // Incompressible data is stored in raw blocks: barely larger than the input.
  const noise = inputs[4];
  assert(lz4FrameCompress(noise).length <= noise.length + 15 + 4 * 3 + 4);
});

Deno.test("LZ4: corruption, truncation, trailing bytes and size bombs are CompressionErrors", () => {
  const good = b64(CLI_CHECKSUMS);
  const flip = (i: number) => {
    const b = good.slice();
    b[i] ^= 0x10;
    return b;
  };
  assertThrows(() => lz4FrameDecompress(flip(0)), CompressionError, "not an LZ4 frame");
  assertThrows(() => lz4FrameDecompress(flip(14)), CompressionError, "header checksum");
  assertThrows(() => lz4FrameDecompress(flip(30)), CompressionError, "block checksum mismatch");
  assertThrows(() => lz4FrameDecompress(good.subarray(0, good.length - 3)), CompressionError, "truncated");
  assertThrows(() => lz4FrameDecompress(new Uint8Array([...good, 0])), CompressionError, "1 bytes after the end");
  const plain = b64(CLI_PLAIN);
  const badContent = b64(CLI_CHECKSUMS);
  badContent[badContent.length - 1] ^= 1;
  assertThrows(() => lz4FrameDecompress(badContent), CompressionError, "content checksum mismatch");
  assertThrows(() => lz4FrameDecompress(plain, 50), CompressionError, "content exceeds 50 bytes");
  // A frame that claims 1 TB of content is refused before anything is allocated.
  const bomb = lz4FrameCompress(bytesOf("x"));
  bomb[6 + 5] = 1;
  bomb[14] = (xxh32(bomb, 4, 14) >>> 8) & 0xff;
  assertThrows(() => lz4FrameDecompress(bomb), CompressionError, "over");
  // Content size that disagrees with the blocks.
  const short = lz4FrameCompress(bytesOf(TEXT));
  short[6] -= 1;
  short[14] = (xxh32(short, 4, 14) >>> 8) & 0xff;
  assertThrows(() => lz4FrameDecompress(short), CompressionError, "exceeds the declared size");
});

Deno.test("ZSTD: decoding, size limit, corruption", () => {
  const api = zlib as unknown as { zstdCompressSync(b: Buffer): Buffer };
  const input = bytesOf(TEXT.repeat(1000));
  const frame = new Uint8Array(api.zstdCompressSync(Buffer.from(input)));
  assert.deepEqual(zstdDecompress(frame), input);
  assertThrows(() => zstdDecompress(bytesOf("nope")), CompressionError, "not a ZSTD frame");
  // The native decoder tolerates truncation and trailing bytes; the frame walk does not.
  for (let cut = 1; cut < frame.length; cut++) {
    assertThrows(() => zstdDecompress(frame.subarray(0, cut)), CompressionError, "ZSTD");
  }
  assertThrows(() => zstdDecompress(new Uint8Array([...frame, 0])), CompressionError, "1 bytes after the end");
  assertThrows(() => zstdDecompress(frame, 1000), CompressionError, "bad ZSTD data");
  // A frame that declares its content size: checked before decoding, and against the result.
  const cli = b64(CLI_ZSTD);
  assert.deepEqual(zstdDecompress(cli), bytesOf(TEXT));
  assertThrows(() => zstdDecompress(cli, 50), CompressionError, "declares 100 bytes, over 50");
  cli[5] = 99;
  assertThrows(() => zstdDecompress(cli), CompressionError, "ZSTD");
});
