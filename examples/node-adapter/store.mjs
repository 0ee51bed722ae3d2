// STORE — the session store (spec/store.md): records with owner, state and expiry on the kit's clock.
//
// One backend per instance, kept in memory and in <storage_dir>/store.json; every handle
// (store.open_handle) is a view of it, so the adapter claims store.shared-backend, and
// store.reopen reloads it from the file, so it claims store.persistent.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { badRequest, checkJson, closed, conflict, describe, invalid, isPlainObject, notFound } from "./errors.mjs";
import { checkSessionId } from "./hist.mjs";

export const CLAIMS = ["store", "store.ttl", "store.persistent", "store.shared-backend"];
const MAX_TTL_SECONDS = 100 * 365 * 86400;

/** Compare strings by code point, as Python and the spec do (JavaScript's < compares UTF-16 units). */
export function byCodePoint(a, b) {
  const x = [...a];
  const y = [...b];
  for (let k = 0; k < Math.min(x.length, y.length); k++) {
    const d = x[k].codePointAt(0) - y[k].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
}

function rfc3339(us) {
  const iso = new Date(Math.floor(us / 1000)).toISOString(); // "2026-01-01T00:00:00.250Z"
  return `${iso.slice(0, -1)}${String(us % 1000).padStart(3, "0")}Z`;
}

function checkOwner(owner) {
  if (owner === undefined || owner === null) return null;
  try {
    checkSessionId(owner);
  } catch (e) {
    throw invalid(`${e.message.replace("session id", "owner")} (or pass null for an unscoped call)`);
  }
  return owner;
}

function checkTtl(ttl) {
  if (typeof ttl !== "number" || !Number.isFinite(ttl)) {
    throw invalid(`ttl_seconds is a finite number of seconds, not ${describe(ttl)}`);
  }
  const micros = Math.round(ttl * 1e6); // STORE-007: whole microseconds, from 1 to 100 years
  if (!(micros >= 1 && micros <= MAX_TTL_SECONDS * 1e6)) {
    throw invalid(`ttl_seconds rounds to 1 to ${MAX_TTL_SECONDS * 1e6} whole microseconds (100 years), not ${ttl}`);
  }
  return micros;
}

function checkState(state) {
  if (!isPlainObject(state)) throw invalid(`state is a JSON object, not ${describe(state)}`);
  checkJson(state, "state");
  return state;
}

const record = (row) => ({
  id: row.id,
  owner: row.owner,
  created_at: rfc3339(row.created),
  last_active_at: rfc3339(row.active),
  expires_at: rfc3339(row.expires),
  ttl_seconds: row.ttl / 1e6,
  state: structuredClone(row.state), // a copy (STORE-018): callers may edit what they get
});

class Backend {
  constructor(storageDir) {
    this.file = join(storageDir, "store.json");
    this.rows = new Map(existsSync(this.file) ? JSON.parse(readFileSync(this.file, "utf8")) : []);
  }

  save() {
    writeFileSync(`${this.file}.tmp`, JSON.stringify([...this.rows]));
    renameSync(`${this.file}.tmp`, this.file);
  }
}

export class Store {
  constructor(instance) {
    this.instance = instance;
    this.backend = null;
    this.handles = new Map(); // name -> {closed}
    this.defaultHandle = null;
    this.next = 1;
  }

  openHandle() {
    this.backend ??= new Backend(this.instance.storageDir);
    const name = `s${this.next++}`;
    this.handles.set(name, { closed: false });
    return name;
  }

  /** The handle the request names (or the default one), checked to be open; the current instant. */
  use(args) {
    let name = args.handle;
    if (name === undefined) name = this.defaultHandle ??= this.openHandle();
    const h = this.handles.get(name);
    if (!h) throw badRequest(`unknown store handle ${describe(name)}`);
    if (h.closed) throw closed(`store handle ${name} is closed; store.reopen opens a new one`);
    return this.instance.nowUs();
  }

  visible(id, owner, now) {
    const row = this.backend.rows.get(id);
    return row && now < row.expires && (owner === null || row.owner === owner) ? row : null;
  }

  create(args) {
    const now = this.use(args); // STORE-033: a closed handle first, then the arguments
    const id = args.id === undefined || args.id === null ? null : (checkSessionId(args.id), args.id);
    const owner = checkOwner(args.owner);
    const ttl = checkTtl(args.ttl_seconds);
    const state = args.state === undefined || args.state === null ? {} : structuredClone(checkState(args.state));
    let sid = id;
    if (sid === null) {
      do sid = randomBytes(16).toString("hex");
      while (this.visible(sid, null, now));
    } else if (this.visible(sid, null, now)) {
      throw conflict(`session ${describe(sid)} already exists; pick another id, or omit it to have one minted`);
    }
    const row = { id: sid, owner, created: now, active: now, expires: now + ttl, ttl, state };
    this.backend.rows.set(sid, row);
    this.backend.save();
    return record(row);
  }

  get(args) {
    const now = this.use(args);
    checkSessionId(args.id);
    const owner = checkOwner(args.owner);
    const row = this.visible(args.id, owner, now);
    return row ? record(row) : null;
  }

  mustSee(args) {
    const now = this.use(args);
    checkSessionId(args.id);
    const owner = checkOwner(args.owner);
    const row = this.visible(args.id, owner, now);
    if (!row) throw notFound(`no live session ${describe(args.id)}: it never existed, expired, or was deleted`);
    return [row, now];
  }

  touch(args) {
    const [row, now] = this.mustSee(args);
    row.active = now;
    row.expires = now + row.ttl;
    this.backend.save();
    return record(row);
  }

  update_state(args) {
    this.use(args);
    checkState(args.state);
    const [row] = this.mustSee(args);
    row.state = { ...row.state };
    for (const [k, v] of Object.entries(args.state)) {
      Object.defineProperty(row.state, k, { value: structuredClone(v), writable: true, enumerable: true, configurable: true });
    }
    this.backend.save();
    return record(row);
  }

  delete(args) {
    this.use(args);
    checkSessionId(args.id);
    const owner = checkOwner(args.owner);
    const row = this.backend.rows.get(args.id);
    if (row && (owner === null || row.owner === owner)) {
      this.backend.rows.delete(args.id);
      this.backend.save();
    }
    return null;
  }

  list(args) {
    const now = this.use(args);
    const owner = checkOwner(args.owner);
    const rows = [...this.backend.rows.values()].filter((r) => now < r.expires && (owner === null || r.owner === owner));
    rows.sort((a, b) => a.created - b.created || byCodePoint(a.id, b.id));
    return rows.map(record);
  }

  cleanup(args) {
    const now = this.use(args);
    let removed = 0;
    for (const [id, row] of this.backend.rows) {
      if (now >= row.expires) {
        this.backend.rows.delete(id);
        removed++;
      }
    }
    if (removed) this.backend.save();
    return removed;
  }

  close(args) {
    let name = args.handle;
    if (name === undefined) name = this.defaultHandle ??= this.openHandle();
    const h = this.handles.get(name);
    if (!h) throw badRequest(`unknown store handle ${describe(name)}`);
    h.closed = true; // closing again changes nothing
    return null;
  }

  open_handle() {
    this.defaultHandle ??= this.openHandle(); // the default handle is always the first one opened
    return this.openHandle();
  }

  reopen() {
    this.end();
    this.backend = new Backend(this.instance.storageDir);
    this.defaultHandle = this.openHandle();
    return null;
  }

  end() {
    this.handles.clear();
    this.defaultHandle = null;
    this.backend = null;
  }
}
