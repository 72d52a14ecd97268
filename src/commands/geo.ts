/**
 * The geo command family: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH, GEOSEARCHSTORE,
 * GEORADIUS, GEORADIUSBYMEMBER and their _RO forms, on top of sorted sets whose scores are
 * 52-bit interleaved geohashes.
 *
 * Invariants: every computation is Redis 7.0's, operation for operation, in IEEE doubles
 * (geohash.c, geohash_helper.c, geo.c), so scores, the set of matches, their order, distances
 * and coordinates agree with Redis to the bit; decimal output uses glibc's rounding (exact
 * value, ties to even). GEOADD is a ZADD and is journaled as one.
 */
import { command, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { ERR } from "./helpers.ts";
import { propagateAs } from "./dispatcher.ts";
import { parseLong, parseRedisDouble, readZset, storeZsetResult, zadd } from "./zsets.ts";
import type { ZSetValue } from "../store/types/zset.ts";
import { pqsort } from "./sort.ts";

// ---------------------------------------------------------------------------------------
// geohash.c
// ---------------------------------------------------------------------------------------

const GEO_STEP_MAX = 26;
const GEO_LAT_MIN = -85.05112878;
const GEO_LAT_MAX = 85.05112878;
const GEO_LONG_MIN = -180;
const GEO_LONG_MAX = 180;

/** A geohash: `step` bits per coordinate, interleaved (longitude in odd bits). */
interface GeoHashBits {
  bits: bigint;
  step: number;
}

/** A decoded cell: coordinate ranges. */
interface GeoHashArea {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

/** Spreads the low 32 bits of x to the even bit positions of a 64-bit value. */
function spread(x: bigint): bigint {
  x &= 0xffffffffn;
  x = (x | (x << 16n)) & 0x0000ffff0000ffffn;
  x = (x | (x << 8n)) & 0x00ff00ff00ff00ffn;
  x = (x | (x << 4n)) & 0x0f0f0f0f0f0f0f0fn;
  x = (x | (x << 2n)) & 0x3333333333333333n;
  x = (x | (x << 1n)) & 0x5555555555555555n;
  return x;
}

/** Collects the even bits of a 32-bit value into its low 16 bits. */
function squash32(x: number): number {
  x &= 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  x = (x | (x >>> 8)) & 0x0000ffff;
  return x;
}

/** C's `(uint32_t)` of a non-negative double offset. */
function toUint32(d: number): bigint {
  return BigInt.asUintN(32, BigInt(Math.trunc(d)));
}

/** geohashEncode: null when the coordinates are outside the limits or the ranges. */
function geohashEncode(
  lonMin: number,
  lonMax: number,
  latMin: number,
  latMax: number,
  lon: number,
  lat: number,
  step: number,
): GeoHashBits | null {
  if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) return null;
  if (lat < latMin || lat > latMax || lon < lonMin || lon > lonMax) return null;
  let latOffset = (lat - latMin) / (latMax - latMin);
  let lonOffset = (lon - lonMin) / (lonMax - lonMin);
  latOffset *= 2 ** step;
  lonOffset *= 2 ** step;
  return { bits: spread(toUint32(latOffset)) | (spread(toUint32(lonOffset)) << 1n), step };
}

/** geohashEncodeWGS84. */
function encodeWGS84(lon: number, lat: number, step: number): GeoHashBits | null {
  return geohashEncode(GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX, lon, lat, step);
}

/** geohashDecode of split coordinates (lat and lon cell indexes) at `step`. */
function decodeCells(ilato: number, ilono: number, step: number): GeoHashArea {
  const latScale = GEO_LAT_MAX - GEO_LAT_MIN;
  const lonScale = GEO_LONG_MAX - GEO_LONG_MIN;
  const div = 2 ** step;
  return {
    latMin: GEO_LAT_MIN + (ilato * 1.0 / div) * latScale,
    latMax: GEO_LAT_MIN + ((ilato + 1) * 1.0 / div) * latScale,
    lonMin: GEO_LONG_MIN + (ilono * 1.0 / div) * lonScale,
    lonMax: GEO_LONG_MIN + ((ilono + 1) * 1.0 / div) * lonScale,
  };
}

/** geohashDecode (WGS84 ranges) of a hash. */
function geohashDecode(h: GeoHashBits): GeoHashArea {
  const lo = Number(h.bits & 0xffffffffn);
  const hi = Number((h.bits >> 32n) & 0xffffffffn);
  const ilato = (squash32(lo) | (squash32(hi) << 16)) >>> 0;
  const ilono = (squash32(lo >>> 1) | (squash32(hi >>> 1) << 16)) >>> 0;
  return decodeCells(ilato, ilono, h.step);
}

/** geohashDecodeAreaToLongLat: the cell centre, clamped to the limits. */
function areaCenter(a: GeoHashArea): [number, number] {
  let lon = (a.lonMin + a.lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (a.latMin + a.latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  return [lon, lat];
}

const TWO_32 = 2 ** 32;

/** C's `(uint64_t)` of a double on x86-64 (gcc's conversion sequence), as a bigint. */
function toUint64(d: number): bigint {
  if (d < 2 ** 63) {
    if (!(d > -(2 ** 63))) return 1n << 63n; // cvttsd2si's "indefinite" value
    return BigInt.asUintN(64, BigInt(Math.trunc(d)));
  }
  if (d < 2 ** 64) return BigInt(Math.trunc(d));
  return 0n; // (d - 2^63) converts to the indefinite value, whose top bit is then flipped
}

/** decodeGeohash: longitude and latitude of a sorted-set score. */
function decodeScore(score: number): [number, number] {
  if (score >= 0 && score < 2 ** 53) {
    // Fast path for ordinary geohash scores: split into 32-bit halves.
    const bits = Math.trunc(score);
    const hi = Math.floor(bits / TWO_32);
    const lo = bits - hi * TWO_32;
    const ilato = (squash32(lo) | (squash32(hi) << 16)) >>> 0;
    const ilono = (squash32(lo >>> 1) | (squash32(hi >>> 1) << 16)) >>> 0;
    return areaCenter(decodeCells(ilato, ilono, GEO_STEP_MAX));
  }
  const bits = toUint64(score);
  const lo = Number(bits & 0xffffffffn);
  const hi = Number(bits >> 32n);
  const ilato = (squash32(lo) | (squash32(hi) << 16)) >>> 0;
  const ilono = (squash32(lo >>> 1) | (squash32(hi >>> 1) << 16)) >>> 0;
  return areaCenter(decodeCells(ilato, ilono, GEO_STEP_MAX));
}

function moveX(h: GeoHashBits, d: number): GeoHashBits {
  if (d === 0) return h;
  let x = h.bits & 0xaaaaaaaaaaaaaaaan;
  const y = h.bits & 0x5555555555555555n;
  const zz = 0x5555555555555555n >> BigInt(64 - h.step * 2);
  if (d > 0) x = x + (zz + 1n);
  else {
    x = x | zz;
    x = x - (zz + 1n);
  }
  x = BigInt.asUintN(64, x) & (0xaaaaaaaaaaaaaaaan >> BigInt(64 - h.step * 2));
  return { bits: x | y, step: h.step };
}

function moveY(h: GeoHashBits, d: number): GeoHashBits {
  if (d === 0) return h;
  const x = h.bits & 0xaaaaaaaaaaaaaaaan;
  let y = h.bits & 0x5555555555555555n;
  const zz = 0xaaaaaaaaaaaaaaaan >> BigInt(64 - h.step * 2);
  if (d > 0) y = y + (zz + 1n);
  else {
    y = y | zz;
    y = y - (zz + 1n);
  }
  y = BigInt.asUintN(64, y) & (0x5555555555555555n >> BigInt(64 - h.step * 2));
  return { bits: x | y, step: h.step };
}

// ---------------------------------------------------------------------------------------
// geohash_helper.c (Redis 7.0)
// ---------------------------------------------------------------------------------------

const D_R = Math.PI / 180.0;
const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;

function degRad(ang: number): number {
  return ang * D_R;
}

function radDeg(ang: number): number {
  return ang / D_R;
}

/** A search shape: circle or axis-aligned box around (lon, lat), sizes in `conversion` units. */
interface GeoShape {
  circular: boolean;
  lon: number;
  lat: number;
  /** Meters per unit. */
  conversion: number;
  radius: number;
  width: number;
  height: number;
}

function estimateStepsByRadius(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** geohashBoundingBox: [minLon, minLat, maxLon, maxLat]. */
function boundingBox(s: GeoShape): [number, number, number, number] {
  const height = s.conversion * (s.circular ? s.radius : s.height / 2);
  const width = s.conversion * (s.circular ? s.radius : s.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(s.lat + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(s.lat - latDelta)));
  const south = s.lat < 0;
  return [
    south ? s.lon - lonDeltaBottom : s.lon - lonDeltaTop,
    s.lat - latDelta,
    south ? s.lon + lonDeltaBottom : s.lon + lonDeltaTop,
    s.lat + latDelta,
  ];
}

/** The nine cells to scan (centre, N, S, E, W, NE, NW, SE, SW); null marks an excluded one. */
function areasByShape(s: GeoShape): (GeoHashBits | null)[] {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(s);
  const radiusMeters =
    (s.circular ? s.radius : Math.sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2))) *
    s.conversion;
  let steps = estimateStepsByRadius(radiusMeters, s.lat);
  let hash = encodeWGS84(s.lon, s.lat, steps)!;
  let n = neighbors(hash);
  let area = geohashDecode(hash);
  let decrease = false;
  // neighbors() order: N, S, E, W, ...
  if (geohashDecode(n[0]).latMax < maxLat) decrease = true;
  if (geohashDecode(n[1]).latMin > minLat) decrease = true;
  if (geohashDecode(n[2]).lonMax < maxLon) decrease = true;
  if (geohashDecode(n[3]).lonMin > minLon) decrease = true;
  if (steps > 1 && decrease) {
    steps--;
    hash = encodeWGS84(s.lon, s.lat, steps)!;
    n = neighbors(hash);
    area = geohashDecode(hash);
  }
  const cells: (GeoHashBits | null)[] = [hash, ...n];
  if (steps >= 2) {
    // Indexes: 1 N, 2 S, 3 E, 4 W, 5 NE, 6 NW, 7 SE, 8 SW.
    if (area.latMin < minLat) cells[2] = cells[8] = cells[7] = null;
    if (area.latMax > maxLat) cells[1] = cells[5] = cells[6] = null;
    if (area.lonMin < minLon) cells[4] = cells[8] = cells[6] = null;
    if (area.lonMax > maxLon) cells[3] = cells[7] = cells[5] = null;
  }
  return cells;
}

/** geohashNeighbors, in the order N, S, E, W, NE, NW, SE, SW. */
function neighbors(h: GeoHashBits): GeoHashBits[] {
  return [
    moveY(h, 1),
    moveY(h, -1),
    moveX(h, 1),
    moveX(h, -1),
    moveY(moveX(h, 1), 1),
    moveY(moveX(h, -1), 1),
    moveY(moveX(h, 1), -1),
    moveY(moveX(h, -1), -1),
  ];
}

/** geohashGetDistance (Redis 7.0's haversine). */
function geoDistance(lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lat1r = degRad(lat1d);
  const lon1r = degRad(lon1d);
  const lat2r = degRad(lat2d);
  const lon2r = degRad(lon2d);
  const u = Math.sin((lat2r - lat1r) / 2);
  const v = Math.sin((lon2r - lon1r) / 2);
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v));
}

/** geoWithinShape: the distance from the shape's centre, or -1 when outside. */
function distanceWithin(s: GeoShape, lon: number, lat: number): number {
  if (s.circular) {
    const d = geoDistance(s.lon, s.lat, lon, lat);
    return d > s.radius * s.conversion ? -1 : d;
  }
  const widthM = s.width * s.conversion;
  const heightM = s.height * s.conversion;
  const lonDistance = geoDistance(lon, lat, s.lon, lat);
  const latDistance = geoDistance(lon, lat, lon, s.lat);
  if (lonDistance > widthM / 2 || latDistance > heightM / 2) return -1;
  return geoDistance(s.lon, s.lat, lon, lat);
}

// ---------------------------------------------------------------------------------------
// Decimal output with glibc rounding
// ---------------------------------------------------------------------------------------

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** The finite positive double as m * 2^e with integer m. */
function decompose(a: number): [bigint, number] {
  F64[0] = a;
  const hi = U32[1];
  const lo = U32[0];
  const bexp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (bexp === 0) return [m, -1074];
  m |= 1n << 52n;
  return [m, bexp - 1075];
}

/** C's `%.<digits>f` of a finite double: the exact value rounded half to even. */
function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let text: string;
  if (a >= 1e21) {
    text = BigInt(a).toString() + (digits > 0 ? "." + "0".repeat(digits) : "");
  } else {
    text = a.toFixed(digits);
    // toFixed rounds an exact tie up; C rounds it to even.
    const [m, e] = decompose(a);
    if (a !== 0 && e < 0) {
      const scaled = m * 10n ** BigInt(digits + 1);
      const div = 1n << BigInt(-e);
      if (scaled % div === 0n) {
        const n = scaled / div;
        if (n % 10n === 5n && (n / 10n) % 2n === 0n) {
          const s = (n / 10n).toString().padStart(digits + 1, "0");
          text = digits > 0 ? s.slice(0, s.length - digits) + "." + s.slice(s.length - digits) : s;
        }
      }
    }
  }
  return neg ? "-" + text : text;
}

/** Redis's "human" long double text (%.17Lf, trailing zeros and dot removed, -0 → 0). */
function humanText(x: number): string {
  if (!Number.isFinite(x)) return formatFixed(x, 17);
  let s = formatFixed(x, 17);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s === "-0" ? "0" : s;
}

/** addReplyHumanLongDouble: a bulk string in RESP2, a double in RESP3. */
function replyHuman(c: Client, x: number): void {
  const text = humanText(x);
  if (c.w.proto === 3) {
    const bytes = new Uint8Array(text.length + 3);
    bytes[0] = 44; // ','
    for (let i = 0; i < text.length; i++) bytes[i + 1] = text.charCodeAt(i);
    bytes[text.length + 1] = 13;
    bytes[text.length + 2] = 10;
    c.w.raw(bytes);
  } else {
    c.w.bulk(text);
  }
}

/** addReplyDoubleDistance: %.4f as a bulk string. */
function replyDistance(c: Client, d: number): void {
  c.w.bulk(formatFixed(d, 4));
}

// ---------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------

/** Meters per unit, or -1 after replying the unit error. */
function unitOrReply(c: Client, unit: string): number {
  switch (unit.toLowerCase()) {
    case "m":
      return 1;
    case "km":
      return 1000;
    case "ft":
      return 0.3048;
    case "mi":
      return 1609.34;
  }
  c.w.error("ERR unsupported unit provided. please use M, KM, FT, MI");
  return -1;
}

/** extractLongLatOrReply: [lon, lat], or null after an error reply. */
function lonLatOrReply(c: Client, lonArg: string, latArg: string): [number, number] | null {
  const lon = parseRedisDouble(lonArg);
  if (lon === null) {
    c.w.error(ERR.notFloat);
    return null;
  }
  const lat = parseRedisDouble(latArg);
  if (lat === null) {
    c.w.error(ERR.notFloat);
    return null;
  }
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    c.w.error(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
    return null;
  }
  return [lon, lat];
}

/** extractDistanceOrReply: [radius, meters per unit], or null after an error reply. */
function distanceOrReply(c: Client, value: string, unit: string): [number, number] | null {
  const r = parseRedisDouble(value);
  if (r === null) {
    c.w.error("ERR need numeric radius");
    return null;
  }
  if (r < 0) {
    c.w.error("ERR radius cannot be negative");
    return null;
  }
  const conv = unitOrReply(c, unit);
  return conv < 0 ? null : [r, conv];
}

/** extractBoxOrReply: [width, height, meters per unit], or null after an error reply. */
function boxOrReply(c: Client, w: string, h: string, unit: string): [number, number, number] | null {
  const width = parseRedisDouble(w);
  if (width === null) {
    c.w.error("ERR need numeric width");
    return null;
  }
  const height = parseRedisDouble(h);
  if (height === null) {
    c.w.error("ERR need numeric height");
    return null;
  }
  if (height < 0 || width < 0) {
    c.w.error("ERR height or width cannot be negative");
    return null;
  }
  const conv = unitOrReply(c, unit);
  return conv < 0 ? null : [width, height, conv];
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

function geoaddCommand(c: Client, args: string[]): void {
  let xx = false, nx = false;
  let longIdx = 2;
  for (; longIdx < args.length; longIdx++) {
    const o = args[longIdx].toLowerCase();
    if (o === "nx") nx = true;
    else if (o === "xx") xx = true;
    else if (o !== "ch") break;
  }
  if ((args.length - longIdx) % 3 !== 0 || (xx && nx)) return c.w.error(ERR.syntax);
  const zargs = ["zadd", ...args.slice(1, longIdx)];
  for (let i = longIdx; i < args.length; i += 3) {
    const xy = lonLatOrReply(c, args[i], args[i + 1]);
    if (xy === null) return;
    const hash = encodeWGS84(xy[0], xy[1], GEO_STEP_MAX)!;
    zargs.push(hash.bits.toString(), args[i + 2]);
  }
  zadd(c, zargs);
  propagateAs(zargs);
}

function geodistCommand(c: Client, args: string[]): void {
  let toMeter = 1;
  if (args.length === 5) {
    toMeter = unitOrReply(c, args[4]);
    if (toMeter < 0) return;
  } else if (args.length > 5) {
    return c.w.error(ERR.syntax);
  }
  const z = readZset(c, args[1]);
  if (z === false) return;
  if (z === null) return c.w.nil();
  const s1 = z.score(args[2]);
  const s2 = z.score(args[3]);
  if (s1 === undefined || s2 === undefined) return c.w.nil();
  const [lon1, lat1] = decodeScore(s1);
  const [lon2, lat2] = decodeScore(s2);
  replyDistance(c, geoDistance(lon1, lat1, lon2, lat2) / toMeter);
}

const GEO_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

function geohashCommand(c: Client, args: string[]): void {
  const z = readZset(c, args[1]);
  if (z === false) return;
  c.w.array(args.length - 2);
  for (let j = 2; j < args.length; j++) {
    const score = z === null ? undefined : z.score(args[j]);
    if (score === undefined) {
      c.w.nil();
      continue;
    }
    const [lon, lat] = decodeScore(score);
    const bits = geohashEncode(-180, 180, -90, 90, lon, lat, 26)?.bits ?? 0n;
    let out = "";
    for (let i = 0; i < 11; i++) {
      const idx = i === 10 ? 0 : Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn);
      out += GEO_ALPHABET[idx];
    }
    c.w.bulk(out);
  }
}

function geoposCommand(c: Client, args: string[]): void {
  const z = readZset(c, args[1]);
  if (z === false) return;
  c.w.array(args.length - 2);
  for (let j = 2; j < args.length; j++) {
    const score = z === null ? undefined : z.score(args[j]);
    if (score === undefined) {
      c.w.nilArray();
      continue;
    }
    const [lon, lat] = decodeScore(score);
    c.w.array(2);
    replyHuman(c, lon);
    replyHuman(c, lat);
  }
}

/** Variants of georadiusGeneric. */
const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

/** A match: member, score, distance (meters, then unit) and coordinates. */
interface GeoPoint {
  member: string;
  score: number;
  dist: number;
  lon: number;
  lat: number;
}

/** geoGetPointsInRange: appends members with min ≤ score < max that are inside the shape. */
function pointsInRange(z: ZSetValue, min: number, max: number, s: GeoShape, out: GeoPoint[], limit: number): void {
  const first = z.firstRankByScore(min, false);
  const last = z.lastRankByScore(max, true);
  if (last < first) return;
  let done = false;
  z.walk(first, last - first + 1, false, (member, score) => {
    if (done) return;
    const [lon, lat] = decodeScore(score);
    const dist = distanceWithin(s, lon, lat);
    if (dist >= 0) out.push({ member, score, dist, lon, lat });
    if (out.length > 0 && limit > 0 && out.length >= limit) done = true;
  });
}

/** membersOfAllNeighbors: scans the nine cells (skipping repeats) into `out`. */
function membersOfAllNeighbors(z: ZSetValue, s: GeoShape, out: GeoPoint[], limit: number): void {
  const cells = areasByShape(s);
  let last: GeoHashBits | null = null;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell === null) continue;
    if (last !== null && cell.bits === last.bits && cell.step === last.step) continue;
    if (out.length > 0 && limit > 0 && out.length >= limit) break;
    const shift = BigInt(52 - cell.step * 2);
    const min = Number(cell.bits << shift);
    const max = Number((cell.bits + 1n) << shift);
    pointsInRange(z, min, max, s, out, limit);
    last = cell;
  }
}

function byDistance(a: GeoPoint, b: GeoPoint): number {
  return a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1;
}

function georadiusGeneric(c: Client, args: string[], srcIdx: number, flags: number): void {
  let storeKey: string | null = null;
  let storeDist = false;
  const z = readZset(c, args[srcIdx]);
  if (z === false) return;
  const shape: GeoShape = { circular: true, lon: 0, lat: 0, conversion: 1, radius: 0, width: 0, height: 0 };
  let baseArgs: number;
  if (flags & RADIUS_COORDS) {
    baseArgs = 6;
    const xy = lonLatOrReply(c, args[2], args[3]);
    if (xy === null) return;
    [shape.lon, shape.lat] = xy;
    const d = distanceOrReply(c, args[4], args[5]);
    if (d === null) return;
    [shape.radius, shape.conversion] = d;
  } else if (flags & RADIUS_MEMBER) {
    baseArgs = 5;
    if (z !== null) {
      const score = z.score(args[2]);
      if (score === undefined) return c.w.error("ERR could not decode requested zset member");
      [shape.lon, shape.lat] = decodeScore(score);
      const d = distanceOrReply(c, args[3], args[4]);
      if (d === null) return;
      [shape.radius, shape.conversion] = d;
    }
  } else {
    baseArgs = 2;
    if (flags & GEOSEARCHSTORE) {
      baseArgs = 3;
      storeKey = args[1];
    }
  }
  let withDist = false, withHash = false, withCoords = false;
  let fromMember = false, fromLoc = false, byRadius = false, byBox = false;
  let sort: "none" | "asc" | "desc" = "none";
  let any = false;
  let count = 0;
  const remaining = args.length - baseArgs;
  for (let i = 0; i < remaining; i++) {
    const at = baseArgs + i;
    const arg = args[at].toLowerCase();
    if (arg === "withdist") withDist = true;
    else if (arg === "withhash") withHash = true;
    else if (arg === "withcoord") withCoords = true;
    else if (arg === "any") any = true;
    else if (arg === "asc") sort = "asc";
    else if (arg === "desc") sort = "desc";
    else if (arg === "count" && i + 1 < remaining) {
      const n = parseLong(args[at + 1]);
      if (n === null) return c.w.error(ERR.notInteger);
      if (n <= 0) return c.w.error("ERR COUNT must be > 0");
      count = n;
      i++;
    } else if (
      (arg === "store" || arg === "storedist") && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)
    ) {
      storeKey = args[at + 1];
      storeDist = arg === "storedist";
      i++;
    } else if (arg === "storedist" && flags & GEOSEARCH && flags & GEOSEARCHSTORE) {
      storeDist = true;
    } else if (arg === "frommember" && i + 1 < remaining && flags & GEOSEARCH && !fromLoc) {
      if (z !== null) {
        const score = z.score(args[at + 1]);
        if (score === undefined) return c.w.error("ERR could not decode requested zset member");
        [shape.lon, shape.lat] = decodeScore(score);
      }
      fromMember = true;
      i++;
    } else if (arg === "fromlonlat" && i + 2 < remaining && flags & GEOSEARCH && !fromMember) {
      const xy = lonLatOrReply(c, args[at + 1], args[at + 2]);
      if (xy === null) return;
      [shape.lon, shape.lat] = xy;
      fromLoc = true;
      i += 2;
    } else if (arg === "byradius" && i + 2 < remaining && flags & GEOSEARCH && !byBox) {
      const d = distanceOrReply(c, args[at + 1], args[at + 2]);
      if (d === null) return;
      [shape.radius, shape.conversion] = d;
      shape.circular = true;
      byRadius = true;
      i += 2;
    } else if (arg === "bybox" && i + 3 < remaining && flags & GEOSEARCH && !byRadius) {
      const b = boxOrReply(c, args[at + 1], args[at + 2], args[at + 3]);
      if (b === null) return;
      [shape.width, shape.height, shape.conversion] = b;
      shape.circular = false;
      byBox = true;
      i += 3;
    } else {
      return c.w.error(ERR.syntax);
    }
  }
  if (storeKey !== null && (withDist || withHash || withCoords)) {
    const what = flags & GEOSEARCHSTORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS";
    return c.w.error(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  if (flags & GEOSEARCH && !(fromMember || fromLoc)) {
    return c.w.error(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${args[0]}`);
  }
  if (flags & GEOSEARCH && !(byRadius || byBox)) {
    return c.w.error(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${args[0]}`);
  }
  if (any && count === 0) return c.w.error("ERR the ANY argument requires COUNT argument");
  if (z === null) {
    if (storeKey !== null) return storeZsetResult(c, storeKey, [], [], "");
    return c.w.array(0);
  }
  if (count !== 0 && sort === "none" && !any) sort = "asc";
  const points: GeoPoint[] = [];
  membersOfAllNeighbors(z, shape, points, any ? count : 0);
  if (points.length === 0 && storeKey === null) return c.w.array(0);
  const returned = count === 0 || points.length < count ? points.length : count;
  if (sort !== "none") {
    const cmp = sort === "asc" ? byDistance : (a: GeoPoint, b: GeoPoint) => -byDistance(a, b);
    // glibc's qsort is a stable merge sort; Redis's pqsort serves the partial case.
    if (returned === points.length) points.sort(cmp);
    else pqsort(points, cmp, 0, returned - 1);
  }
  if (storeKey === null) {
    const options = (withDist ? 1 : 0) + (withCoords ? 1 : 0) + (withHash ? 1 : 0);
    c.w.array(returned);
    for (let i = 0; i < returned; i++) {
      const p = points[i];
      if (options > 0) c.w.array(options + 1);
      c.w.bulk(p.member);
      if (withDist) replyDistance(c, p.dist / shape.conversion);
      if (withHash) c.w.int(BigInt.asIntN(64, toUint64(p.score)));
      if (withCoords) {
        c.w.array(2);
        replyHuman(c, p.lon);
        replyHuman(c, p.lat);
      }
    }
    return;
  }
  const members: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < returned; i++) {
    members.push(points[i].member);
    scores.push(storeDist ? points[i].dist / shape.conversion : points[i].score);
  }
  storeZsetResult(c, storeKey, members, scores, flags & GEOSEARCH ? "geosearchstore" : "georadiusstore");
}

/** Keys of GEORADIUS/GEORADIUSBYMEMBER: the source, plus a STORE/STOREDIST destination. */
function georadiusKeys(first: number): (args: string[]) => number[] {
  return (args) => {
    const keys = [1];
    for (let i = first; i < args.length - 1; i++) {
      const a = args[i].toLowerCase();
      if (a === "store" || a === "storedist") {
        keys.push(i + 1);
        break;
      }
    }
    return keys;
  };
}

const G = "geo";

/** Commands of the geo family. */
export const geoCommands: CommandSpec[] = [
  command("geoadd", -5, ["write", "denyoom"], [1, 1, 1], G, "Add geospatial members", "3.2.0", geoaddCommand),
  command("geodist", -4, ["readonly"], [1, 1, 1], G, "Distance between two members", "3.2.0", geodistCommand),
  command("geohash", -2, ["readonly"], [1, 1, 1], G, "Geohash strings of members", "3.2.0", geohashCommand),
  command("geopos", -2, ["readonly"], [1, 1, 1], G, "Longitude and latitude of members", "3.2.0", geoposCommand),
  command(
    "georadius",
    -6,
    ["write", "denyoom", "movablekeys"],
    [1, 1, 1],
    G,
    "Members within a radius of a point",
    "3.2.0",
    (c, a) => georadiusGeneric(c, a, 1, RADIUS_COORDS),
    { getKeys: georadiusKeys(6) },
  ),
  command(
    "georadius_ro",
    -6,
    ["readonly"],
    [1, 1, 1],
    G,
    "Members within a radius of a point (read-only)",
    "3.2.10",
    (c, a) => georadiusGeneric(c, a, 1, RADIUS_COORDS | RADIUS_NOSTORE),
  ),
  command(
    "georadiusbymember",
    -5,
    ["write", "denyoom", "movablekeys"],
    [1, 1, 1],
    G,
    "Members within a radius of a member",
    "3.2.0",
    (c, a) => georadiusGeneric(c, a, 1, RADIUS_MEMBER),
    { getKeys: georadiusKeys(5) },
  ),
  command(
    "georadiusbymember_ro",
    -5,
    ["readonly"],
    [1, 1, 1],
    G,
    "Members within a radius of a member (read-only)",
    "3.2.10",
    (c, a) => georadiusGeneric(c, a, 1, RADIUS_MEMBER | RADIUS_NOSTORE),
  ),
  command(
    "geosearch",
    -7,
    ["readonly"],
    [1, 1, 1],
    G,
    "Members inside a circle or box",
    "6.2.0",
    (c, a) => georadiusGeneric(c, a, 1, GEOSEARCH),
  ),
  command(
    "geosearchstore",
    -8,
    ["write", "denyoom"],
    [1, 2, 1],
    G,
    "Store members inside a circle or box",
    "6.2.0",
    (c, a) => georadiusGeneric(c, a, 2, GEOSEARCH | GEOSEARCHSTORE),
  ),
];
