// A JSON parser that loses nothing that JavaScript's JSON.parse loses.
//
// JSON.parse turns 9007199254740993 into 9007199254740992 and 2.0 into 2, silently.
// This parser returns integers outside ±(2^53−1) as BigInt, so that the adapter can
// reject them instead of storing a rounded value (HIST-015), and remembers which object
// members were written with a fraction or an exponent, so that a limit of 2.0 is
// rejected as a floating-point number (HIST-005). Otherwise it returns what JSON.parse
// returns, including a member named "__proto__" as an ordinary own member.

const floatMembers = new WeakMap(); // object -> Set of member names written like 2.0 or 1e3

/** Was `obj[key]` written as a number with a fraction or an exponent? */
export function writtenAsFloat(obj, key) {
  return floatMembers.get(obj)?.has(key) ?? false;
}

export class JsonSyntaxError extends SyntaxError {}

class FloatBox {
  constructor(n) {
    this.n = n;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

export function parse(text) {
  let i = 0;
  const fail = (what) => {
    throw new JsonSyntaxError(`${what} at position ${i}`);
  };
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  };
  const unbox = (v) => (v instanceof FloatBox ? v.n : v);

  function value() {
    ws();
    const c = text[i];
    if (c === "{") return object();
    if (c === "[") return array();
    if (c === '"') return string();
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (text.startsWith("null", i)) return (i += 4), null;
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail("unexpected character");
    i = NUMBER.lastIndex;
    if (m[1] !== undefined || m[2] !== undefined) return new FloatBox(Number(m[0]));
    const n = Number(m[0]);
    return Number.isSafeInteger(n) ? n : BigInt(m[0]);
  }

  function object() {
    i++;
    const obj = {};
    let floats = null;
    ws();
    if (text[i] === "}") return i++, obj;
    for (;;) {
      ws();
      if (text[i] !== '"') fail("expected a member name");
      const key = string();
      ws();
      if (text[i] !== ":") fail("expected ':'");
      i++;
      const raw = value();
      if (raw instanceof FloatBox) (floats ??= new Set()).add(key);
      else floats?.delete(key);
      Object.defineProperty(obj, key, { value: unbox(raw), writable: true, enumerable: true, configurable: true });
      ws();
      if (text[i] === ",") i++;
      else if (text[i] === "}") break;
      else fail("expected ',' or '}'");
    }
    i++;
    if (floats) floatMembers.set(obj, floats);
    return obj;
  }

  function array() {
    i++;
    const arr = [];
    ws();
    if (text[i] === "]") return i++, arr;
    for (;;) {
      arr.push(unbox(value()));
      ws();
      if (text[i] === ",") i++;
      else if (text[i] === "]") break;
      else fail("expected ',' or ']'");
    }
    i++;
    return arr;
  }

  function string() {
    i++;
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail("control character in a string");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      if (e === "u") {
        const hex = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
        out += String.fromCharCode(parseInt(hex, 16)); // a lone surrogate stays one, as in JSON.parse
        i += 4;
      } else if (e in ESCAPES) out += ESCAPES[e];
      else fail("bad escape");
      start = i;
    }
    out += text.slice(start, i);
    i++;
    return out;
  }

  const result = unbox(value());
  ws();
  if (i !== text.length) fail("text after the value");
  return result;
}

/**
 * JSON text for a value, refusing what JSON.stringify gets wrong: NaN and Infinity (it writes null),
 * BigInt (it throws late), and integral numbers beyond 2^53, which it writes as digits that are not
 * the number's exact value (5.090994816724017e16 becomes 50909948167240170, read back elsewhere as
 * an integer that differs from the double). Those are written in exponent form, which every
 * reader takes as the same binary64 value.
 */
export function stringify(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`${value} is not JSON`);
    return Number.isInteger(value) && !Number.isSafeInteger(value) ? value.toExponential() : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(stringify).join(",")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${stringify(v)}`).join(",")}}`;
  }
  throw new TypeError(`${typeof value === "bigint" ? `the integer ${value}` : typeof value} cannot be written as JSON`);
}
