// Errors an area answers with: a code from the protocol's fixed set, and a message.
export class AdapterError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export const invalid = (message) => new AdapterError("invalid_argument", message);
export const closed = (message) => new AdapterError("closed", message);
export const notFound = (message) => new AdapterError("not_found", message);
export const conflict = (message) => new AdapterError("conflict", message);
/** The kit sent something the protocol does not allow (an unknown handle, a missing argument). */
export const badRequest = (message) => new AdapterError("bad_request", message);

/** A short, safe description of any value for error messages. */
export function describe(value) {
  if (typeof value === "bigint") return `${value}`;
  if (value instanceof Map) return "a Map";
  if (value instanceof Uint8Array) return "binary data";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  let text;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Check that `value` is plain JSON that this adapter can store exactly; `where` names it in the message. */
export function checkJson(value, where, depth = 0) {
  if (depth > 10000) throw invalid(`${where} is nested more than 10000 levels deep`);
  if (value === null || typeof value === "boolean" || typeof value === "string") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalid(`${where} holds ${value}, which JSON cannot express`);
    return;
  }
  if (typeof value === "bigint") {
    throw invalid(`${where} holds the integer ${value}, outside ±(2^53−1); JavaScript cannot store it exactly`);
  }
  if (Array.isArray(value)) {
    value.forEach((v, k) => checkJson(v, `${where}[${k}]`, depth + 1));
    return;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) checkJson(v, `${where}.${k}`, depth + 1);
    return;
  }
  throw invalid(`${where} holds ${describe(value)}, which is not a JSON value`);
}

/** A plain JSON object (not an array, null, Map or binary data). */
export const isPlainObject = (v) =>
  v !== null && typeof v === "object" && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
