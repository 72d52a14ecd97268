/**
 * Redis-style glob matching (stringmatchlen): `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes.
 *
 * Invariant: operates on latin1 strings, so it matches bytes exactly as Redis does.
 */

/** True when `str` matches the Redis glob `pattern`. */
export function globMatch(pattern: string, str: string, nocase = false): boolean {
  if (pattern === "*") return true;
  if (nocase) {
    pattern = pattern.toLowerCase();
    str = str.toLowerCase();
  }
  return matchAt(pattern, 0, str, 0, 0);
}

function matchAt(p: string, pi: number, s: string, si: number, depth: number): boolean {
  if (depth > 1000) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && (si < slen || p[pi] === "*")) {
    const c = p[pi];
    if (c === "*") {
      while (pi + 1 < plen && p[pi + 1] === "*") pi++;
      if (pi + 1 === plen) return true;
      for (let k = si; k <= slen; k++) {
        if (matchAt(p, pi + 1, s, k, depth + 1)) return true;
      }
      return false;
    } else if (c === "?") {
      si++;
    } else if (c === "[") {
      pi++;
      const not = p[pi] === "^";
      if (not) pi++;
      let match = false;
      for (;;) {
        if (pi >= plen) {
          pi--;
          break;
        }
        if (p[pi] === "\\" && pi + 1 < plen) {
          pi++;
          if (p[pi] === s[si]) match = true;
        } else if (p[pi] === "]") {
          break;
        } else if (pi + 2 < plen && p[pi + 1] === "-") {
          let start = p.charCodeAt(pi);
          let end = p.charCodeAt(pi + 2);
          const ch = s.charCodeAt(si);
          if (start > end) [start, end] = [end, start];
          pi += 2;
          if (ch >= start && ch <= end) match = true;
        } else if (p[pi] === s[si]) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
    } else if (c === "\\" && pi + 1 < plen) {
      pi++;
      if (p[pi] !== s[si]) return false;
      si++;
    } else {
      if (c !== s[si]) return false;
      si++;
    }
    pi++;
    if (si >= slen) {
      while (pi < plen && p[pi] === "*") pi++;
      break;
    }
  }
  return pi >= plen && si >= slen;
}
