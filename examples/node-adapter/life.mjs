// LIFE — session lifecycle events and server-assigned ids (spec/lifecycle.md).
//
// The client speaks JSON-RPC-shaped messages but owns no transport: requests go to an outbox the
// kit drains (life.outbox), server messages come in through life.deliver. Nothing waits: a
// request's timer fires when the kit sends life.timeout. Registration follows ADR 0007: a
// caller-chosen id is registered before its request is sent; a server-assigned id when the reply
// names it. The kit's probe handlers ("record" and "raise") are at the end of the client.
//
// life.server_handle and life.server_touch are the other side: a scripted session server whose
// events carry times from the instance's clock.
import { randomBytes } from "node:crypto";

import { conflict, describe, invalid, isPlainObject, notFound } from "./errors.mjs";
import { byCodePoint } from "./store.mjs";

export const CLAIMS = ["life", "life.session-handlers", "life.server"];
const KNOWN_TYPES = new Set(["session.created", "session.deleted", "session.updated", "session.foreground", "session.background"]);
const WITH_METADATA = new Set([...KNOWN_TYPES].filter((t) => t !== "session.deleted"));
const TOUCH_TYPES = new Set(["session.updated", "session.foreground", "session.background"]);
const INSTANT = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/; // RFC 3339
const BEHAVIOURS = new Set(["record", "raise"]);

const nonEmpty = (v) => typeof v === "string" && v !== "";
const has = (obj, key) => Object.hasOwn(obj, key);

/** Why `params` is not a valid lifecycle event envelope, or null when it is one. */
function eventProblem(params) {
  if (!isPlainObject(params)) return "the params of a session.lifecycle notification are not an object";
  const { type, metadata } = params;
  if (!nonEmpty(type)) return "the event has no type string";
  if (!nonEmpty(params.sessionId)) return "the event has no sessionId string";
  if (has(params, "clientSessionId") && (type !== "session.created" || !nonEmpty(params.clientSessionId))) {
    return "clientSessionId appears only on session.created, as a non-empty string";
  }
  if (type === "session.deleted" && has(params, "metadata")) return "session.deleted carries no metadata";
  if (WITH_METADATA.has(type) || has(params, "metadata")) {
    if (!isPlainObject(metadata)) return `${type} needs a metadata object`;
    const times = [metadata.startTime, metadata.modifiedTime];
    if (!times.every((t) => typeof t === "string" && INSTANT.test(t))) {
      return "metadata needs startTime and modifiedTime as RFC 3339 date-times";
    }
    if (has(metadata, "summary") && typeof metadata.summary !== "string") return "metadata.summary is a string when present";
  }
  return null;
}

function checkId(sessionId) {
  if (!nonEmpty(sessionId)) throw invalid(`a session id is a non-empty string, not ${describe(sessionId)}`);
  return sessionId;
}

function checkOp(op) {
  if (!nonEmpty(op)) throw invalid(`an operation reference is a non-empty string, not ${describe(op)}`);
  return op;
}

export class Life {
  constructor(instance) {
    this.instance = instance;
    // the client
    this.sessions = new Set();
    this.pending = new Map(); // JSON-RPC id -> {op, method, sessionId (null: the server assigns), wasRegistered}
    this.results = new Map(); // op -> its result
    this.sent = [];
    this.subscriptions = []; // {name, behaviour, sessionId, eventType}, in the order of subscribe
    this.diagnosticLines = [];
    this.deliveries = []; // {handler, event}: what every handler received, in order
    this.nextId = 1;
    // the server
    this.started = new Map(); // session id -> startTime
    this.retired = new Set(); // deleted ids are never reused
  }

  // -- requests ------------------------------------------------------------------------------
  send(method, params, request) {
    const id = this.nextId++;
    this.pending.set(id, request);
    this.results.set(request.op, { state: "pending" });
    this.sent.push({ jsonrpc: "2.0", id, method, params });
    return request.op;
  }

  opName(kind) {
    return `${kind}-${this.results.size + 1}`;
  }

  create(args) {
    const op = this.opName("create");
    if (args.session_id === undefined || args.session_id === null) {
      return this.send("session.create", {}, { op, method: "session.create", sessionId: null });
    }
    const sid = checkId(args.session_id);
    if (this.sessions.has(sid)) throw conflict(`session ${describe(sid)} is already registered on this client; resume it instead`);
    this.sessions.add(sid); // routable from this moment on (ADR 0007)
    return this.send("session.create", { sessionId: sid }, { op, method: "session.create", sessionId: sid });
  }

  resume(args) {
    const sid = checkId(args.session_id);
    const request = { op: this.opName("resume"), method: "session.resume", sessionId: sid, wasRegistered: this.sessions.has(sid) };
    this.sessions.add(sid); // idempotent: an active session keeps its one entry and its handlers
    return this.send("session.resume", { sessionId: sid }, request);
  }

  delete(args) {
    const sid = checkId(args.session_id);
    return this.send("session.delete", { sessionId: sid }, { op: this.opName("delete"), method: "session.delete", sessionId: sid });
  }

  outbox() {
    const sent = this.sent;
    this.sent = [];
    return sent;
  }

  result(args) {
    const op = checkOp(args.op);
    if (!this.results.has(op)) throw notFound(`no operation ${describe(op)} was started on this client`);
    return { ...this.results.get(op) };
  }

  timeout(args) {
    const op = checkOp(args.op);
    if (!this.results.has(op)) throw notFound(`no operation ${describe(op)} was started on this client`); // LIFE-037
    for (const [id, request] of this.pending) {
      if (request.op === op) this.fail(id, "unavailable", "the server did not answer in time"); // LIFE-027
    }
    return null;
  }

  registry() {
    return { sessions: [...this.sessions].sort(byCodePoint), pending: this.pending.size };
  }

  // -- replies -------------------------------------------------------------------------------
  unregister(sid) {
    this.sessions.delete(sid);
    this.subscriptions = this.subscriptions.filter((s) => s.sessionId !== sid);
  }

  finish(id, sid) {
    const request = this.pending.get(id);
    this.pending.delete(id);
    this.results.set(request.op, { state: "ok", session_id: sid });
  }

  fail(id, error, message) {
    const request = this.pending.get(id);
    this.pending.delete(id);
    this.results.set(request.op, { state: "failed", error, message });
    const resumedAnew = request.method === "session.resume" && !request.wasRegistered;
    if (request.sessionId !== null && (request.method === "session.create" || resumedAnew)) this.unregister(request.sessionId);
  }

  onReply(id, message) {
    const request = this.pending.get(id);
    if (has(message, "error")) {
      const text = isPlainObject(message.error) ? message.error.message : undefined;
      this.fail(id, "failed_precondition", `the server refused ${request.method}: ${text || describe(message.error)}`); // LIFE-026
      return;
    }
    if (request.method === "session.delete") {
      this.finish(id, request.sessionId);
      this.unregister(request.sessionId);
      return;
    }
    const named = isPlainObject(message.result) ? message.result.sessionId : undefined;
    // LIFE-029 (no id), LIFE-028 (another id), LIFE-030 (an id already here)
    if (!nonEmpty(named)) this.fail(id, "failed_precondition", `the ${request.method} reply carries no sessionId`);
    else if (request.sessionId !== null && named !== request.sessionId) {
      this.fail(id, "conflict", `asked for ${describe(request.sessionId)}, the server answered ${describe(named)}`);
    } else if (request.sessionId === null && this.sessions.has(named)) {
      this.fail(id, "conflict", `the server assigned ${describe(named)}, which is already registered here`);
    } else {
      this.sessions.add(named);
      this.finish(id, named);
    }
  }

  // -- incoming messages: a malformed or unexpected one is dropped and reported, never thrown --
  deliver(args) {
    const message = args.message;
    if (!isPlainObject(message)) this.diagnosticLines.push(`dropped a message that is not an object: ${describe(message)}`);
    else if (has(message, "method")) {
      if (message.method !== "session.lifecycle") {
        this.diagnosticLines.push(`dropped a notification of unknown method ${describe(message.method)}`);
        return null;
      }
      const problem = eventProblem(message.params);
      if (problem) this.diagnosticLines.push(`dropped a malformed session.lifecycle notification: ${problem}`);
      else this.dispatch(message.params);
    } else if (typeof message.id === "number" && this.pending.has(message.id)) this.onReply(message.id, message);
    else this.diagnosticLines.push(`dropped a reply to no pending request (id ${describe(message.id)})`);
    return null;
  }

  dispatch(event) {
    for (const sub of [...this.subscriptions]) {
      if ((sub.sessionId !== null && sub.sessionId !== event.sessionId) || (sub.eventType !== null && sub.eventType !== event.type)) continue;
      try {
        this.handler(sub)(structuredClone(event));
      } catch (e) {
        this.diagnosticLines.push(`handler ${describe(sub.name)} threw ${e.constructor.name}: ${e.message}`); // the others still run
      }
    }
  }

  /** The kit's probe handlers: record what arrives, and throw if asked to. */
  handler(sub) {
    return (event) => {
      this.deliveries.push({ handler: sub.name, event });
      if (sub.behaviour === "raise") throw new Error(`handler ${sub.name} fails on purpose`);
    };
  }

  diagnostics() {
    return [...this.diagnosticLines];
  }

  // -- subscriptions: faults in contract precedence (LIFE-032): arguments, session, name --------
  subscribe(args) {
    if (!BEHAVIOURS.has(args.behaviour)) throw invalid(`behaviour is "record" or "raise", not ${describe(args.behaviour)}`);
    const name = args.handler ?? null;
    const sessionId = args.session_id ?? null;
    const eventType = args.event_type ?? null;
    for (const [what, value] of [["a handler name", name], ["a session id", sessionId], ["an event type", eventType]]) {
      if (value !== null && !nonEmpty(value)) throw invalid(`${what} is a non-empty string, not ${describe(value)}`);
    }
    if (name === null) throw invalid("a handler name is a non-empty string, not null");
    if (sessionId !== null && !this.sessions.has(sessionId)) {
      throw notFound(`session ${describe(sessionId)} is not registered on this client; create or resume it first`);
    }
    if (this.subscriptions.some((s) => s.name === name)) throw conflict(`a handler named ${describe(name)} is already subscribed`);
    this.subscriptions.push({ name, behaviour: args.behaviour, sessionId, eventType });
    return null;
  }

  unsubscribe(args) {
    this.subscriptions = this.subscriptions.filter((s) => s.name !== args.handler);
    return null;
  }

  events(args) {
    if (args.handler === undefined || args.handler === null) return structuredClone(this.deliveries);
    return this.deliveries.filter((d) => d.handler === args.handler).map((d) => structuredClone(d.event));
  }

  // -- the server (life.server) --------------------------------------------------------------
  now() {
    return new Date(Math.floor(this.instance.nowUs() / 1000)).toISOString(); // UTC, milliseconds, "Z"
  }

  event(type, sessionId, extra = {}) {
    const params = { type, sessionId, ...extra };
    if (type !== "session.deleted") params.metadata = { startTime: this.started.get(sessionId), modifiedTime: this.now() };
    return { jsonrpc: "2.0", method: "session.lifecycle", params };
  }

  server_handle(args) {
    const message = args.message;
    if (!isPlainObject(message) || !has(message, "id") || typeof message.method !== "string") {
      throw invalid(`a request is an object with an id and a method, not ${describe(message)}`);
    }
    const { id, method } = message;
    const error = (code, text) => [{ jsonrpc: "2.0", id, error: { code, message: text } }];
    const reply = (result) => ({ jsonrpc: "2.0", id, result });
    const params = has(message, "params") ? message.params : {};
    if (!isPlainObject(params)) return error(-32602, "params is an object");
    const sid = params.sessionId ?? null;
    if (sid !== null && !nonEmpty(sid)) return error(-32602, "sessionId is a non-empty string");
    if (method === "session.create") {
      if (sid !== null && (this.started.has(sid) || this.retired.has(sid))) {
        return error(-32010, `session id ${describe(sid)} is taken; propose another`);
      }
      let assigned = sid;
      while (assigned === null || this.started.has(assigned) || this.retired.has(assigned)) {
        assigned = `srv_${randomBytes(16).toString("hex")}`; // LIFE-033: 128 random bits
      }
      this.started.set(assigned, this.now());
      const extra = sid === null ? {} : { clientSessionId: sid };
      return [this.event("session.created", assigned, extra), reply({ sessionId: assigned })];
    }
    if (method !== "session.resume" && method !== "session.delete") return error(-32601, `unknown method ${describe(method)}`);
    if (sid === null || !this.started.has(sid)) return error(-32011, `no session ${describe(sid)}`);
    if (method === "session.resume") return [reply({ sessionId: sid })];
    const sent = [this.event("session.deleted", sid), reply({})];
    this.started.delete(sid);
    this.retired.add(sid);
    return sent;
  }

  server_touch(args) {
    if (!TOUCH_TYPES.has(args.type)) throw invalid(`touch emits one of ${[...TOUCH_TYPES].join(", ")}, not ${describe(args.type)}`);
    if (!this.started.has(args.session_id)) return [];
    return [this.event(args.type, args.session_id)];
  }

  end() {}
}

