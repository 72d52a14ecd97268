/**
 * Geo commands against a real damselfly process: a differential run against a real
 * redis-server proving scores, distances, coordinates, geohashes, match sets and their order
 * agree to the bit (RESP2 and RESP3, every option and error), plus redis-cli, ioredis and
 * node-redis usage.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, type Reply, RespClient, startServer } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { rng } from "../helpers/rng.ts";

/** Sends the same command to damselfly and redis-server and asserts equal replies. */
async function same(ours: RespClient, theirs: RespClient, ...cmd: (string | number)[]): Promise<Reply> {
  const a = await ours.call(...cmd);
  const b = await theirs.call(...cmd);
  assert.deepEqual(a, b, `reply to ${JSON.stringify(cmd)}`);
  return a;
}

/** Points clustered around interesting places, with duplicates and extreme coordinates. */
function dataset(r: () => number): [number, number, string][] {
  const centers: [number, number][] = [
    [13.361389, 38.115556],
    [-122.4194, 37.7749],
    [179.95, -16.5],
    [-179.9, 65],
    [0, 0],
    [
      2.35,
      84.9,
    ],
    [-70, -84.5],
    [139.6917, 35.6895],
  ];
  const out: [number, number, string][] = [];
  let i = 0;
  for (const [lon, lat] of centers) {
    for (let k = 0; k < 60; k++) {
      const spread = k < 20 ? 0.01 : k < 40 ? 0.5 : 5;
      let x = lon + (r() - 0.5) * spread * 2;
      let y = lat + (r() - 0.5) * spread;
      x = Math.max(-180, Math.min(180, x));
      y = Math.max(-85.05112878, Math.min(85.05112878, y));
      out.push([Number(x.toFixed(6)), Number(y.toFixed(6)), `p${i++}`]);
    }
    // Exact duplicates make ties in distance.
    out.push([lon, lat, `dupA${i}`], [lon, lat, `dupB${i}`], [lon, lat, `dupC${i++}`]);
  }
  out.push([180, 85.05112878, "corner"], [-180, -85.05112878, "corner2"], [0, 85.05112878, "top"]);
  return out;
}

Deno.test("geo: differential against redis-server", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    const r = rng(99);
    const points = dataset(r);
    for (const proto of [2, 3] as const) {
      await t.step(`RESP${proto}`, async () => {
        const ours = await RespClient.connect(srv.port);
        const theirs = await RespClient.connect(redis.port);
        if (proto === 3) {
          await ours.call("HELLO", "3");
          await theirs.call("HELLO", "3");
        }
        const key = `geo${proto}`;
        for (let i = 0; i < points.length; i += 50) {
          const cmd: (string | number)[] = ["GEOADD", key];
          for (const [x, y, m] of points.slice(i, i + 50)) cmd.push(x, y, m);
          await same(ours, theirs, ...cmd);
        }
        await same(ours, theirs, "ZRANGE", key, 0, -1, "WITHSCORES");
        await same(ours, theirs, "OBJECT", "ENCODING", key);
        const members = points.map((p) => p[2]);
        await same(ours, theirs, "GEOPOS", key, ...members, "missing");
        await same(ours, theirs, "GEOHASH", key, ...members, "missing");
        for (let i = 0; i < 40; i++) {
          const a = members[Math.floor(r() * members.length)];
          const b = members[Math.floor(r() * members.length)];
          await same(ours, theirs, "GEODIST", key, a, b, ["m", "km", "ft", "mi", "KM"][i % 5]);
        }
        await same(ours, theirs, "GEODIST", key, members[0], members[1]);
        await same(ours, theirs, "GEODIST", key, members[0], "missing");
        // Searches around centers and members, with every option combination.
        const radii: [number, string][] = [
          [0, "m"],
          [500, "m"],
          [3, "km"],
          [50, "km"],
          [400, "km"],
          [2000, "km"],
          [8000, "km"],
          [
            20000,
            "km",
          ],
          [1, "mi"],
          [30000, "ft"],
        ];
        for (let q = 0; q < 120; q++) {
          const [x, y] = points[Math.floor(r() * points.length)];
          const cx = Math.max(-180, Math.min(180, x + (r() - 0.5) * 0.2));
          const cy = Math.max(-85.05112878, Math.min(85.05112878, y + (r() - 0.5) * 0.2));
          const [rad, unit] = radii[q % radii.length];
          const opts: (string | number)[] = [];
          if (r() < 0.5) opts.push("WITHDIST");
          if (r() < 0.5) opts.push("WITHCOORD");
          if (r() < 0.3) opts.push("WITHHASH");
          const order = r();
          if (order < 0.4) opts.push("ASC");
          else if (order < 0.7) opts.push("DESC");
          if (r() < 0.4) opts.push("COUNT", 1 + Math.floor(r() * 8));
          if (q % 4 === 0) {
            await same(ours, theirs, "GEORADIUS", key, cx, cy, rad, unit, ...opts);
          } else if (q % 4 === 1) {
            await same(ours, theirs, "GEOSEARCH", key, "FROMLONLAT", cx, cy, "BYRADIUS", rad, unit, ...opts);
          } else if (q % 4 === 2) {
            const h = radii[(q + 3) % radii.length][0];
            await same(ours, theirs, "GEOSEARCH", key, "FROMLONLAT", cx, cy, "BYBOX", rad * 2, h * 2, unit, ...opts);
          } else {
            const m = members[Math.floor(r() * members.length)];
            await same(ours, theirs, "GEORADIUSBYMEMBER_RO", key, m, rad, unit, ...opts);
            await same(ours, theirs, "GEOSEARCH", key, "FROMMEMBER", m, "BYBOX", rad, rad, unit, ...opts);
          }
        }
        // COUNT ANY stops early, in scan order.
        await same(
          ours,
          theirs,
          "GEOSEARCH",
          key,
          "FROMLONLAT",
          13.36,
          38.11,
          "BYRADIUS",
          100,
          "km",
          "COUNT",
          3,
          "ANY",
        );
        await same(
          ours,
          theirs,
          "GEOSEARCH",
          key,
          "FROMLONLAT",
          13.36,
          38.11,
          "BYRADIUS",
          100,
          "km",
          "COUNT",
          3,
          "ANY",
          "DESC",
          "WITHDIST",
        );
        await same(ours, theirs, "GEORADIUS", key, 0, 0, 5000, "km", "COUNT", 5, "ANY", "WITHHASH");
        // Stores.
        await same(
          ours,
          theirs,
          "GEOSEARCHSTORE",
          `${key}:dst`,
          key,
          "FROMLONLAT",
          13.36,
          38.11,
          "BYRADIUS",
          300,
          "km",
        );
        await same(ours, theirs, "ZRANGE", `${key}:dst`, 0, -1, "WITHSCORES");
        await same(ours, theirs, "OBJECT", "ENCODING", `${key}:dst`);
        await same(
          ours,
          theirs,
          "GEOSEARCHSTORE",
          `${key}:dst`,
          key,
          "FROMLONLAT",
          13.36,
          38.11,
          "BYBOX",
          300,
          100,
          "mi",
          "STOREDIST",
          "COUNT",
          10,
        );
        await same(ours, theirs, "ZRANGE", `${key}:dst`, 0, -1, "WITHSCORES");
        await same(ours, theirs, "GEORADIUS", key, 0, 0, 9000, "km", "STORE", `${key}:dst2`);
        await same(ours, theirs, "ZRANGE", `${key}:dst2`, 0, -1, "WITHSCORES");
        await same(ours, theirs, "OBJECT", "ENCODING", `${key}:dst2`);
        await same(
          ours,
          theirs,
          "GEORADIUSBYMEMBER",
          key,
          "p3",
          100,
          "km",
          "STOREDIST",
          `${key}:dst2`,
          "DESC",
          "COUNT",
          4,
        );
        await same(ours, theirs, "ZRANGE", `${key}:dst2`, 0, -1, "WITHSCORES");
        await same(ours, theirs, "GEORADIUS", key, 10, 10, 1, "m", "STORE", `${key}:dst2`);
        await same(ours, theirs, "EXISTS", `${key}:dst2`);
        await same(ours, theirs, "GEOSEARCHSTORE", `${key}:dst`, "nosuchkey", "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km");
        await same(ours, theirs, "EXISTS", `${key}:dst`);
        ours.close();
        theirs.close();
      });
    }
    await t.step("high latitudes: search areas and bounding boxes", async () => {
      const ours = await RespClient.connect(srv.port);
      const theirs = await RespClient.connect(redis.port);
      const hr = rng(7);
      const cmd: (string | number)[] = ["GEOADD", "polar"];
      for (let i = 0; i < 3000; i++) {
        cmd.push((20 + (hr() - 0.5) * 30).toFixed(5), (72 + (hr() - 0.5) * 16).toFixed(5), `q${i}`);
      }
      await same(ours, theirs, ...cmd);
      for (let q = 0; q < 80; q++) {
        const lon = 20 + (hr() - 0.5) * 20;
        const lat = 72 + (hr() - 0.5) * 10;
        const rad = 20 + hr() * 400;
        if (q % 2 === 0) await same(ours, theirs, "GEOSEARCH", "polar", "FROMLONLAT", lon, lat, "BYRADIUS", rad, "km");
        else {await same(
            ours,
            theirs,
            "GEOSEARCH",
            "polar",
            "FROMLONLAT",
            lon,
            lat,
            "BYBOX",
            rad * 2,
            rad,
            "km",
            "WITHDIST",
          );}
      }
      ours.close();
      theirs.close();
    });
    await t.step("options and errors", async () => {
      const ours = await RespClient.connect(srv.port);
      const theirs = await RespClient.connect(redis.port);
      const cmds: (string | number)[][] = [
        ["GEOADD", "ge", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"],
        ["GEOADD", "ge", "NX", 1, 1, "Palermo", 2, 2, "new"],
        ["GEOADD", "ge", "XX", "CH", 1, 1, "Palermo", 3, 3, "other"],
        ["GEOADD", "ge", "CH", "NX", 5, 5, "new"],
        ["GEOADD", "ge", "NX", "XX", 1, 1, "a"],
        ["GEOADD", "ge", 1, 1, "a", 2],
        ["GEOADD", "ge", 200, 100, "bad"],
        ["GEOADD", "ge", -180.0000001, 0, "bad"],
        ["GEOADD", "ge", 0, 85.06, "bad"],
        ["GEOADD", "ge", "1e300", 0, "bad"],
        ["GEOADD", "ge", "x", 0, "bad"],
        ["GEOADD", "ge", 0, "nan", "bad"],
        ["GEOADD", "ge", 200.0078125, 0, "tie"],
        ["GEOADD", "ge", 180, 85.05112878, "edge"],
        ["ZADD", "ge", -3.7, "weird", "1e300", "w2", 1.5, "w3"],
        ["GEOPOS", "ge", "weird", "w2", "w3", "edge"],
        ["GEOHASH", "ge", "weird", "w2", "w3", "edge"],
        ["GEODIST", "ge", "Palermo", "Catania", "yards"],
        ["GEODIST", "ge", "Palermo", "Catania", "km", "extra"],
        ["GEODIST", "nokey", "a", "b"],
        ["GEOPOS", "nokey", "a", "b"],
        ["GEOHASH", "nokey", "a"],
        ["GEORADIUS", "ge", 15, 37, 200, "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"],
        ["GEORADIUS", "ge", 15, 37, -1, "km"],
        ["GEORADIUS", "ge", 15, 37, "x", "km"],
        ["GEORADIUS", "ge", 15, 37, 1, "parsec"],
        ["GEORADIUS", "ge", 15, 37, 200, "km", "COUNT", 0],
        ["GEORADIUS", "ge", 15, 37, 200, "km", "COUNT", "x"],
        ["GEORADIUS", "ge", 15, 37, 200, "km", "ANY"],
        ["GEORADIUS", "ge", 15, 37, 200, "km", "STORE", "x", "WITHDIST"],
        ["GEORADIUS", "ge", 15, 37, 200, "km", "BOGUS"],
        ["GEORADIUS", "ge", 15, 37, 200, "km", "STORE"],
        ["GEORADIUS_RO", "ge", 15, 37, 200, "km", "STORE", "x"],
        ["GEORADIUSBYMEMBER", "ge", "nosuch", 100, "km"],
        ["GEORADIUSBYMEMBER", "nokey", "nosuch", 100, "km"],
        ["GEORADIUSBYMEMBER", "nokey", "nosuch", 100, "km", "STORE", "dstx"],
        ["GEORADIUSBYMEMBER", "ge", "Palermo", 300, "km", "WITHDIST", "DESC"],
        ["GEOSEARCH", "ge", "FROMMEMBER", "Palermo", "BYRADIUS", 200, "km"],
        ["GEOSEARCH", "ge", "FROMMEMBER", "Palermo", "FROMLONLAT", 1, 1, "BYRADIUS", 200, "km"],
        ["GEOSEARCH", "ge", "FROMLONLAT", 1, 1, "FROMMEMBER", "Palermo", "BYRADIUS", 200, "km"],
        ["GEOSEARCH", "ge", "BYRADIUS", 200, "km", "WITHDIST"],
        ["geosearch", "ge", "FROMMEMBER", "Palermo", "WITHDIST"],
        ["GEOSEARCH", "ge", "FROMMEMBER", "Palermo", "BYRADIUS", 200, "km", "BYBOX", 1, 1, "km"],
        ["GEOSEARCH", "ge", "FROMMEMBER", "nosuch", "BYRADIUS", 200, "km"],
        ["GEOSEARCH", "nokey", "FROMMEMBER", "nosuch", "BYRADIUS", 200, "km"],
        ["GEOSEARCH", "ge", "FROMMEMBER", "Palermo", "BYBOX", -1, 1, "km"],
        ["GEOSEARCH", "ge", "FROMMEMBER", "Palermo", "BYBOX", "w", 1, "km"],
        ["GEOSEARCH", "ge", "FROMMEMBER", "Palermo", "BYBOX", 1, "h", "km"],
        ["GEOSEARCH", "ge", "FROMMEMBER", "Palermo", "BYBOX", 400, 400, "km", "STORE", "x"],
        ["GEOSEARCH", "ge", "FROMMEMBER", "Palermo", "BYBOX", 400, 400, "km", "STOREDIST"],
        ["GEOSEARCH", "ge", "FROMLONLAT", 200, 1, "BYRADIUS", 1, "km"],
        ["GEOSEARCHSTORE", "gdst", "ge", "FROMMEMBER", "Palermo", "BYBOX", 400, 400, "km", "WITHCOORD"],
        ["GEOSEARCHSTORE", "gdst", "ge", "FROMMEMBER", "Palermo", "BYBOX", 400, 400, "km", "STOREDIST", "ASC"],
        ["ZRANGE", "gdst", 0, -1, "WITHSCORES"],
        ["SET", "gstr", "x"],
        ["GEOADD", "gstr", 1, 1, "a"],
        ["GEOPOS", "gstr", "a"],
        ["GEODIST", "gstr", "a", "b"],
        ["GEOHASH", "gstr", "a"],
        ["GEOSEARCH", "gstr", "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km"],
        ["GEORADIUS", "gstr", "x", 1, 1, "km"],
      ];
      for (const cmd of cmds) await same(ours, theirs, ...cmd);
      ours.close();
      theirs.close();
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("geo: real clients", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli", async () => {
      assert.equal(
        await redisCli(srv.port, [
          "geoadd",
          "Sicily",
          "13.361389",
          "38.115556",
          "Palermo",
          "15.087269",
          "37.502669",
          "Catania",
        ]),
        "(integer) 2",
      );
      assert.equal(await redisCli(srv.port, ["geodist", "Sicily", "Palermo", "Catania", "km"]), '"166.2742"');
      assert.equal(await redisCli(srv.port, ["geohash", "Sicily", "Palermo"]), '1) "sqc8b49rny0"');
      assert.equal(
        await redisCli(srv.port, ["geoadd", "Sicily", "200", "100", "x"]),
        "(error) ERR invalid longitude,latitude pair 200.000000,100.000000",
      );
    });
    await t.step("ioredis", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        assert.deepEqual(await io.geopos("Sicily", "Palermo"), [["13.36138933897018433", "38.11555639549629859"]]);
        assert.deepEqual(await io.georadius("Sicily", 15, 37, 200, "km", "WITHDIST", "ASC"), [["Catania", "56.4413"], [
          "Palermo",
          "190.4424",
        ]]);
        assert.deepEqual(await io.geosearch("Sicily", "FROMMEMBER", "Palermo", "BYBOX", 400, 400, "km", "ASC"), [
          "Palermo",
          "Catania",
        ]);
        assert.equal(
          await io.geosearchstore("dst", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 100, "km", "STOREDIST"),
          1,
        );
        assert.equal(await io.zscore("dst", "Catania"), "56.441257870158204");
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.geoAdd("nrgeo", { longitude: 2.3522, latitude: 48.8566, member: "Paris" }), 1);
        assert.equal(await nr.geoAdd("nrgeo", { longitude: -0.1276, latitude: 51.5072, member: "London" }), 1);
        assert.equal(await nr.geoDist("nrgeo", "Paris", "London", "km"), 343.6268);
        assert.deepEqual(await nr.geoSearch("nrgeo", "Paris", { radius: 400, unit: "km" }), ["Paris", "London"]);
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});
