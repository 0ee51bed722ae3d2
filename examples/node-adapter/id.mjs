// ID — identity lifetimes (spec/identity.md): the client of an agent service. The service itself is
// the kit's (§ The remote agent service): it mints service handles and response ids and does the
// work; this client owns the sessions (session id, opaque service handle, state), mints session ids
// and continuation tokens, and checks every argument before it sends the service anything.
//
// Every call checks in the contract's precedence (ID-021): the arguments themselves, including
// whether a continuation token is one this client issued for the named session; then whether the
// session is live (not_found); then whether a new session's id is taken (conflict); only then is
// the remote service called.
//
// Claims id, id.structured-handle (a handle may be a JSON object, kept as given),
// id.handle-chaining (the session takes the handle of each run's response), id.token-expiry (a
// response the service no longer knows is not_found) and id.client-persistence (sessions are
// written to <storage_dir>/id.json on every change and read back by id.restart).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { AdapterError, checkJson, closed, conflict, describe, invalid, isPlainObject, notFound } from "./errors.mjs";
import { parse, stringify, writtenAsFloat } from "./json.mjs";
import { checkId, mint } from "./task.mjs";

export const CLAIMS = ["id", "id.structured-handle", "id.handle-chaining", "id.token-expiry", "id.client-persistence"];
const MAX_STEPS = 100;
const SNAPSHOT_MEMBERS = ["snapshot_version", "session_id", "service_handle", "state"];
const TOKEN_PREFIX = "ct1";
const TIMEOUT_MS = 5_000; // shorter than the kit's --conformance-timeout (10 s), so a hung service is our unavailable

// Continuation tokens are signed, so the client tells its own from anything else without a remote
// call (ID-013). The key is part of the client's configuration, which a restart keeps: derived from
// a secret of this process and the address of the remote service, so an instance started again over
// fresh storage with the same service (a restart for id.client-persistence) takes the old tokens.
const PROCESS_SECRET = randomBytes(32);
const b64 = (buffer) => Buffer.from(buffer).toString("base64url");

/** A caller-supplied id (the HIST rule), or a minted one when none is given. */
const sessionIdOf = (value) => checkId(value, "session_id");

/** A service handle: a non-empty string or a JSON object, never read; `null` is "none (yet)". */
function checkHandle(value, where) {
  if (typeof value === "string" && value !== "") {
    checkWellFormed(value, where);
    return value;
  }
  if (isPlainObject(value)) {
    checkJson(value, where);
    checkWellFormed(value, where);
    return structuredClone(value);
  }
  throw invalid(`${where} is a non-empty string or a JSON object, not ${describe(value)}`);
}

/** A string JSON text can carry to the service: no lone surrogate (ID-029), at any depth. */
function checkWellFormed(value, where) {
  if (typeof value === "string") {
    if (!value.isWellFormed()) throw invalid(`${where} holds a lone surrogate, which JSON text cannot carry to the service`);
  } else if (Array.isArray(value)) {
    value.forEach((v, k) => checkWellFormed(v, `${where}[${k}]`));
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      checkWellFormed(k, `${where} member name`);
      checkWellFormed(v, `${where}.${k}`);
    }
  }
}

function checkState(value, where) {
  if (!isPlainObject(value)) throw invalid(`${where} is a JSON object, not ${describe(value)}`);
  checkJson(value, where);
  checkWellFormed(value, where);
  return structuredClone(value);
}

/** `steps`: an integer literal (not 2.0, not true, not "2") from 1 to 100; absent or null is 1. */
function checkSteps(args) {
  const steps = args.steps;
  if (steps === undefined || steps === null) return 1;
  if (typeof steps === "number" && Number.isInteger(steps) && !writtenAsFloat(args, "steps") && steps >= 1 && steps <= MAX_STEPS) {
    return steps;
  }
  const float = typeof steps === "number" && writtenAsFloat(args, "steps") ? " (written as a float)" : "";
  throw invalid(`steps is an integer from 1 to ${MAX_STEPS}, not ${describe(steps)}${float}`);
}

function checkReferences(value) {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`reference_task_ids is an array of ids, not ${describe(value)}`);
  return value.map((v, k) => checkId(v, `reference_task_ids[${k}]`));
}

const view = (session) => structuredClone(session);

export class Id {
  constructor(instance) {
    this.instance = instance;
    this.url = instance.agentServiceUrl;
    this.key = createHmac("sha256", PROCESS_SECRET).update(`agent service ${this.url ?? ""}`).digest();
    this.file = join(instance.storageDir, "id.json");
    this.sessions = this._load(); // session id -> {session_id, service_handle, state}
    this.closed = false;
  }

  // --- storage (id.client-persistence) ---------------------------------------------------------

  _load() {
    const sessions = new Map();
    if (existsSync(this.file)) for (const s of parse(readFileSync(this.file, "utf8"))) sessions.set(s.session_id, s);
    return sessions;
  }

  _save() {
    // A new file renamed over the old one: a crash leaves one or the other, whole.
    writeFileSync(`${this.file}.tmp`, stringify([...this.sessions.values()]));
    renameSync(`${this.file}.tmp`, this.file);
  }

  /** Closed first, before any argument is looked at (ID-021, ID-030). */
  _open() {
    if (this.closed) throw closed("this agent client is closed; open a new one");
  }

  _live(sessionId) {
    const session = this.sessions.get(sessionId);
    if (!session) throw notFound(`no session ${describe(sessionId)}; create it or restore its snapshot first`);
    return session;
  }

  // --- the remote service ----------------------------------------------------------------------

  async _remote(method, params) {
    if (typeof this.url !== "string") {
      throw new AdapterError("unavailable", "kit.begin gave no agent_service_url; the kit sends one from protocol 1.3");
    }
    let reply;
    try {
      const answer = await fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: stringify({ method, params }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      reply = parse(await answer.text());
    } catch (e) {
      throw new AdapterError("unavailable", `the agent service at ${this.url} answered ${method} with nothing usable: ${e.message}`);
    }
    if (isPlainObject(reply) && isPlainObject(reply.error)) {
      const { kind, message } = reply.error;
      // not_found: a response the service no longer keeps (ID-025). unavailable, or the service
      // failing inside (internal), is unavailable to the caller (ID-027, ID-028). Anything else the
      // service refuses is a call this client should never have made: a bug here, so internal.
      const code = kind === "not_found" ? kind : kind === "unavailable" || kind === "internal" ? "unavailable" : "internal";
      throw new AdapterError(code, `the agent service refused ${method} (${describe(kind)}): ${message}`);
    }
    if (!isPlainObject(reply) || !("result" in reply)) {
      throw new AdapterError("unavailable", `the agent service answered ${method} with ${describe(reply)}`);
    }
    return reply.result;
  }

  // --- continuation tokens ---------------------------------------------------------------------

  _sign(payload) {
    return b64(createHmac("sha256", this.key).update(payload).digest());
  }

  /** A token naming one response of one session: "ct1.<payload>.<signature>", all base64url. */
  _token(sessionId, responseId) {
    const payload = b64(stringify({ s: sessionId, r: responseId }));
    return `${TOKEN_PREFIX}.${payload}.${this._sign(payload)}`;
  }

  /** The response id a token names; invalid_argument for a token this client did not issue for `sessionId`. */
  _readToken(token, sessionId) {
    const parts = typeof token === "string" ? token.split(".") : [];
    const foreign = () => invalid(`continuation_token ${describe(token)} was not issued by this client; pass it back as it was returned`);
    if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) throw foreign();
    const [, payload, signature] = parts;
    const expected = Buffer.from(this._sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw foreign();
    const { s, r } = parse(Buffer.from(payload, "base64url").toString("utf8"));
    if (s !== sessionId) {
      throw invalid(`this continuation token belongs to another session than ${describe(sessionId)}; resume it there`);
    }
    return r;
  }

  _response(record, sessionId) {
    const done = record.status === "completed";
    return {
      response_id: record.response_id,
      session_id: sessionId,
      status: record.status,
      continuation_token: done ? null : this._token(sessionId, record.response_id),
      output: done ? record.output : null,
      reference_task_ids: [...record.reference_task_ids],
    };
  }

  // --- operations ------------------------------------------------------------------------------

  create_session(args) {
    this._open();
    const sessionId = args.session_id === undefined || args.session_id === null ? mint("sess") : sessionIdOf(args.session_id);
    const handle = args.service_handle === undefined || args.service_handle === null ? null : checkHandle(args.service_handle, "service_handle");
    const state = args.state === undefined || args.state === null ? {} : checkState(args.state, "state");
    if (this.sessions.has(sessionId)) throw conflict(`a session ${describe(sessionId)} already exists; choose another id or omit it`);
    // Without a handle the session gets one from the service at its first run (ID-023).
    const session = { session_id: sessionId, service_handle: handle, state };
    this.sessions.set(sessionId, session);
    this._save();
    return view(session);
  }

  get_session(args) {
    this._open();
    return view(this._live(sessionIdOf(args.session_id)));
  }

  set_state(args) {
    this._open();
    const sessionId = sessionIdOf(args.session_id);
    const state = checkState(args.state, "state");
    this._live(sessionId).state = state; // replaced whole, never merged (ID-022)
    this._save();
    return null;
  }

  async run(args) {
    this._open();
    const sessionId = sessionIdOf(args.session_id);
    if (typeof args.input !== "string") throw invalid(`input is a string, not ${describe(args.input)}`);
    checkJson(args.input, "input");
    checkWellFormed(args.input, "input");
    const steps = checkSteps(args);
    const references = checkReferences(args.reference_task_ids);
    const session = this._live(sessionId);
    if (session.service_handle === null) {
      session.service_handle = (await this._remote("conversations.create", {})).service_handle;
      this._save();
    }
    const record = await this._remote("responses.create", {
      service_handle: session.service_handle,
      input: args.input,
      steps,
      reference_task_ids: references,
    });
    // The conversation is named by the handle of its latest response (id.handle-chaining, ID-024);
    // a service that does not chain answers with the handle it was sent.
    session.service_handle = record.service_handle;
    this._save();
    return this._response(record, sessionId);
  }

  async resume(args) {
    this._open();
    const sessionId = sessionIdOf(args.session_id);
    const responseId = this._readToken(args.continuation_token, sessionId);
    this._live(sessionId);
    return this._response(await this._remote("responses.get", { response_id: responseId }), sessionId);
  }

  snapshot(args) {
    this._open();
    return { snapshot_version: 1, ...view(this._live(sessionIdOf(args.session_id))) };
  }

  restore(args) {
    this._open();
    const snapshot = args.snapshot;
    if (!isPlainObject(snapshot)) throw invalid(`a snapshot is a JSON object, not ${describe(snapshot)}`);
    const keys = Object.keys(snapshot);
    const unknown = keys.filter((k) => !SNAPSHOT_MEMBERS.includes(k));
    const missing = SNAPSHOT_MEMBERS.filter((k) => !keys.includes(k));
    if (unknown.length || missing.length) {
      throw invalid(`not a version-1 snapshot: unknown members ${describe(unknown)}, missing members ${describe(missing)}`);
    }
    const version = snapshot.snapshot_version;
    if (version !== 1 || writtenAsFloat(snapshot, "snapshot_version")) {
      throw invalid(`snapshot_version ${describe(version)} is not supported; this client reads the integer 1`);
    }
    const sessionId = checkId(snapshot.session_id, "snapshot session_id");
    // null: the service had not assigned a handle when the snapshot was taken (ID-023)
    const handle = snapshot.service_handle === null ? null : checkHandle(snapshot.service_handle, "snapshot service_handle");
    const state = checkState(snapshot.state, "snapshot state");
    if (this.sessions.has(sessionId)) {
      throw conflict(`a session ${describe(sessionId)} is already live; a snapshot restores a session that is not`);
    }
    const session = { session_id: sessionId, service_handle: handle, state };
    this.sessions.set(sessionId, session);
    this._save();
    return view(session);
  }

  /** The client's process ends and starts again: what it kept in its storage directory comes back. */
  restart() {
    this.sessions = this._load();
    this.closed = false;
    return null;
  }

  /** Every later call fails with closed (ID-030); the stored sessions stay for the next restart. */
  close() {
    this.closed = true;
    return null;
  }

  end() {
    this.sessions.clear();
  }
}
