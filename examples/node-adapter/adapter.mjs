#!/usr/bin/env node
// The adapter-protocol loop (spec/adapter-protocol.md): one JSON request per line on stdin,
// one JSON reply per line on stdout, diagnostics on stderr. Node 20, standard library only.
//
//   pytest --impl="exec:node examples/node-adapter/adapter.mjs"
//
// Requests are answered one at a time, in arrival order: JavaScript runs one call at a time,
// so concurrent requests (HIST-009, HIST-018) are serialised, which the spec allows. An ID
// operation that calls the kit's agent service over HTTP is awaited before the next request starts.
import { parse, stringify } from "./json.mjs";
import { AdapterError, badRequest, isPlainObject } from "./errors.mjs";
import { Bcast, CLAIMS as BCAST_CLAIMS } from "./bcast.mjs";
import { CLAIMS as HIST_CLAIMS, Hist } from "./hist.mjs";
import { CLAIMS as ID_CLAIMS, Id } from "./id.mjs";
import { CLAIMS as LIFE_CLAIMS, Life } from "./life.mjs";
import { CLAIMS as STORE_CLAIMS, Store } from "./store.mjs";
import { CLAIMS as TASK_CLAIMS, Task } from "./task.mjs";

const PROTOCOL = "1.3";
const AREAS = { hist: Hist, store: Store, id: Id, task: Task, bcast: Bcast, life: Life };
const CLAIMS = [...HIST_CLAIMS, ...STORE_CLAIMS, ...ID_CLAIMS, ...TASK_CLAIMS, ...BCAST_CLAIMS, ...LIFE_CLAIMS];
const EPOCH_US = Date.UTC(2026, 0, 1) * 1000; // every instance's clock starts at 2026-01-01T00:00:00Z

// The kit's stand-ins for values JSON cannot carry, as their JavaScript equivalents.
const NON_JSON = {
  nan: () => NaN,
  infinity: () => Infinity,
  "negative-infinity": () => -Infinity,
  bytes: () => Uint8Array.from([0, 255, 98, 105, 110]),
  "integer-key": () => new Map([[1, "a map whose key is not a string"]]),
  "lone-surrogate": () => "a\uD800b", // a JavaScript string holds a lone surrogate as it is
};

// {"$nonjson": kind} is a stand-in; {"$literal": object} is an object that looked like one, escaped.
function materialize(value) {
  if (Array.isArray(value)) return value.map(materialize);
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$nonjson" && Object.hasOwn(NON_JSON, value.$nonjson)) {
      return NON_JSON[value.$nonjson]();
    }
    if (keys.length === 1 && keys[0] === "$literal" && isPlainObject(value.$literal)) value = value.$literal;
    for (const k of Object.keys(value)) value[k] = materialize(value[k]);
  }
  return value;
}

class Instance {
  constructor(storageDir, agentServiceUrl) {
    this.storageDir = storageDir;
    this.agentServiceUrl = agentServiceUrl; // the kit's agent service, for ID (protocol 1.3)
    this.clockUs = EPOCH_US; // microseconds since 1970; moved only by kit.advance_clock
    this.areas = {};
    this.last = null; // {args, result} of the last area operation, for kit.mutate
  }

  nowUs() {
    return this.clockUs;
  }

  area(name) {
    const Area = AREAS[name];
    return Area ? (this.areas[name] ??= new Area(this)) : null;
  }

  end() {
    for (const area of Object.values(this.areas)) area.end();
  }
}

const instances = new Map();

async function run(request) {
  const { op, args, instance: id } = request;
  if (op === "kit.hello") {
    const major = String(args.protocol).split(".")[0];
    if (major !== PROTOCOL.split(".")[0]) throw new AdapterError("unsupported", `this adapter speaks protocol ${PROTOCOL}`);
    return {
      protocol: PROTOCOL,
      implementation: { name: "node-adapter", version: "0.2.0", spec_version: "0.2.0", claims: CLAIMS },
    };
  }
  if (op === "kit.begin") {
    instances.set(id, new Instance(args.storage_dir, args.agent_service_url));
    return null;
  }
  const instance = instances.get(id);
  if (!instance) throw badRequest(`unknown instance ${JSON.stringify(id)}; kit.begin creates one`);
  if (op === "kit.end") {
    instances.delete(id);
    instance.end();
    return null;
  }
  if (op === "kit.advance_clock") {
    instance.clockUs += Math.round(args.seconds * 1e6);
    return null;
  }
  if (op === "kit.mutate") {
    mutate(instance.last, args);
    return null;
  }
  const [areaName, name] = op.split(".");
  const area = instance.area(areaName);
  if (!area || typeof area[name] !== "function" || name === "end" || name.startsWith("_")) {
    throw new AdapterError("unsupported", `this adapter does not implement ${op}`);
  }
  instance.last = null;
  const given = materialize(args);
  const result = await area[name](given);
  instance.last = { args: given, result };
  return result;
}

// kit.mutate: change, in place, the very objects the last operation passed to the store or got
// back from it, as a careless caller would; the kit then reads the store to see whether it noticed.
function mutate(last, { of, path, ...change }) {
  if (!last || !(of in last)) throw badRequest(`kit.mutate of ${JSON.stringify(of)}: no operation to change`);
  const [kind] = Object.keys(change);
  const steps = kind === "append" ? path : path.slice(0, -1);
  let target = last[of];
  for (const step of steps) {
    if (target === null || typeof target !== "object" || !Object.hasOwn(target, step)) {
      throw badRequest(`kit.mutate: ${JSON.stringify(path)} does not exist`);
    }
    target = target[step];
  }
  if (kind === "append" && Array.isArray(target)) target.push(change.append);
  else if (kind === "set" && target !== null && typeof target === "object") target[path.at(-1)] = change.set;
  else throw badRequest(`kit.mutate: cannot ${kind} at ${JSON.stringify(path)}`);
}

function reply(message) {
  process.stdout.write(stringify(message) + "\n"); // synchronous for pipes on Linux
}

async function handle(line) {
  let request;
  try {
    request = parse(line);
  } catch (e) {
    process.stderr.write(`node-adapter: ignoring a line that is not JSON: ${e.message}\n`);
    return;
  }
  try {
    const result = await run(request);
    reply({ id: request.id, result: result ?? null });
  } catch (e) {
    if (e instanceof AdapterError) {
      reply({ id: request.id, error: { code: e.code, message: e.message } });
      return;
    }
    // Anything else is a bug in the adapter: an internal error, with the stack on stderr.
    process.stderr.write(`node-adapter: ${request.op} failed:\n${e?.stack ?? e}\n`);
    reply({ id: request.id, error: { code: "internal", message: e?.message || String(e), type: e?.constructor?.name ?? typeof e } });
  }
}

let pending = Buffer.alloc(0);
let queue = Promise.resolve(); // one request at a time, in arrival order
process.stdin.on("data", (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  let nl;
  while ((nl = pending.indexOf(0x0a)) !== -1) {
    const line = pending.subarray(0, nl).toString("utf8");
    pending = pending.subarray(nl + 1);
    if (line.trim()) queue = queue.then(() => handle(line));
  }
});
process.stdin.on("end", async () => {
  await queue;
  for (const instance of instances.values()) instance.end();
  process.exit(0);
});
