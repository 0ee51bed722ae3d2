// STORE — the session store (spec/store.md): records with owner, state and expiry on the kit's clock.
//
// The backend is the file <storage_dir>/store.json and nothing else: every operation takes a lock
// shared by every process, reads the file, acts, writes it back (a new file renamed over the old)
// if it changed, and releases the lock. So every handle (store.open_handle) in this process and
// every replica in another process over the same storage_dir sees the same rows, and the adapter
// claims store.shared-backend, store.persistent (store.reopen only opens a new handle) and
// store.multi-replica (two adapter processes over one storage_dir, spec/contract.md § Replicas).
import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { badRequest, checkJson, closed, conflict, describe, invalid, isPlainObject, notFound } from "./errors.mjs";
import { checkSessionId } from "./hist.mjs";

export const CLAIMS = ["store", "store.ttl", "store.persistent", "store.shared-backend", "store.multi-replica"];
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

/** Sleep without returning to the event loop: the lock is taken inside one synchronous operation. */
const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Whether process `pid` on this machine is still running (EPERM: it is, but not ours). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

const LOCK_WAIT_MS = 8000; // below the kit's 10 s call timeout, so a stuck lock is an error, not a hang
const BREAK_STALE_MS = 1000; // the break lock is held for two system calls; older than this, its holder died

/**
 * A lock shared by every process over one storage directory: the file `store.json.lock`, holding
 * the pid of its holder. It is taken by writing a private file and hard-linking it to that name,
 * which fails if the name exists, so the lock appears with its holder's pid already in it.
 *
 * A process killed while holding it leaves the file behind. A waiter that finds the holder's pid
 * no longer running removes the stale lock, but only while holding a second lock, the directory
 * `store.json.lock.break`, and after reading the pid again under it: so two waiters cannot both
 * remove it, and neither removes a lock a live process took in the meantime. The break lock is
 * held for microseconds; one older than a second was left by a killed process and is removed.
 * A lock that a live process holds for more than 8 seconds is reported as an internal error that
 * names the file, never waited on forever. Pids are this machine's, so the replicas must share one
 * host (and pid namespace); a pid reused by an unrelated process keeps a stale lock until that
 * process ends, which the 8-second limit turns into errors.
 */
class FileLock {
  constructor(path) {
    this.path = path;
    this.breakPath = `${path}.break`;
    this.mine = `${path}.${process.pid}`;
  }

  holder() {
    try {
      return Number.parseInt(readFileSync(this.path, "utf8"), 10);
    } catch (e) {
      if (e.code === "ENOENT") return null;
      throw e;
    }
  }

  acquire() {
    const deadline = Date.now() + LOCK_WAIT_MS;
    writeFileSync(this.mine, String(process.pid));
    try {
      for (let pause = 1; ; pause = Math.min(pause * 2, 16)) {
        try {
          linkSync(this.mine, this.path);
          return;
        } catch (e) {
          if (e.code !== "EEXIST") throw e;
        }
        const pid = this.holder();
        if (pid !== null && !alive(pid)) this.breakStale(pid);
        else if (Date.now() > deadline) {
          throw new Error(`store lock ${this.path} held by process ${pid} for more than ${LOCK_WAIT_MS} ms`);
        } else sleepMs(pause + Math.random() * pause);
      }
    } finally {
      unlinkSync(this.mine);
    }
  }

  breakStale(pid) {
    try {
      mkdirSync(this.breakPath);
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      try {
        if (Date.now() - statSync(this.breakPath).mtimeMs > BREAK_STALE_MS) rmdirSync(this.breakPath);
      } catch (gone) {
        if (gone.code !== "ENOENT") throw gone;
      }
      return; // the caller tries again
    }
    try {
      if (this.holder() === pid) unlinkSync(this.path); // still the dead process's lock
    } finally {
      rmdirSync(this.breakPath);
    }
  }

  release() {
    unlinkSync(this.path);
  }
}

/** The rows of <storage_dir>/store.json, read and written only under its lock. */
class Backend {
  constructor(storageDir) {
    this.file = join(storageDir, "store.json");
    this.lock = new FileLock(`${this.file}.lock`);
  }

  /** Run `action(rows)` on the current rows under the lock, and save the rows if it changed them. */
  with(action) {
    this.lock.acquire();
    try {
      let before = "[]";
      try {
        before = readFileSync(this.file, "utf8");
      } catch (e) {
        if (e.code !== "ENOENT") throw e;
      }
      const rows = new Map(JSON.parse(before));
      const result = action(rows);
      const after = JSON.stringify([...rows]);
      if (after !== before) {
        writeFileSync(`${this.file}.tmp`, after);
        renameSync(`${this.file}.tmp`, this.file); // readers see the old file or the new one, never half
      }
      return result;
    } finally {
      this.lock.release();
    }
  }
}

/** The session `id` if it is live at `now` and belongs to `owner` (null: to anyone). */
function visible(rows, id, owner, now) {
  const row = rows.get(id);
  return row && now < row.expires && (owner === null || row.owner === owner) ? row : null;
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

  create(args) {
    const now = this.use(args); // STORE-033: a closed handle first, then the arguments
    const id = args.id === undefined || args.id === null ? null : (checkSessionId(args.id), args.id);
    const owner = checkOwner(args.owner);
    const ttl = checkTtl(args.ttl_seconds);
    const state = args.state === undefined || args.state === null ? {} : structuredClone(checkState(args.state));
    return this.backend.with((rows) => {
      // Under the lock, so of two replicas creating one id at once, one wins (STORE-043).
      let sid = id;
      if (sid === null) {
        do sid = randomBytes(16).toString("hex");
        while (visible(rows, sid, null, now));
      } else if (visible(rows, sid, null, now)) {
        throw conflict(`session ${describe(sid)} already exists; pick another id, or omit it to have one minted`);
      }
      const row = { id: sid, owner, created: now, active: now, expires: now + ttl, ttl, state };
      rows.set(sid, row);
      return record(row);
    });
  }

  get(args) {
    const now = this.use(args);
    checkSessionId(args.id);
    const owner = checkOwner(args.owner);
    return this.backend.with((rows) => {
      const row = visible(rows, args.id, owner, now);
      return row ? record(row) : null;
    });
  }

  /** Check the request, then run `change(row, now)` on the live session it names, under the lock. */
  change(args, change) {
    const now = this.use(args);
    checkSessionId(args.id);
    const owner = checkOwner(args.owner);
    return this.backend.with((rows) => {
      const row = visible(rows, args.id, owner, now);
      if (!row) throw notFound(`no live session ${describe(args.id)}: it never existed, expired, or was deleted`);
      change(row, now);
      return record(row);
    });
  }

  touch(args) {
    return this.change(args, (row, now) => {
      row.active = now;
      row.expires = now + row.ttl;
    });
  }

  update_state(args) {
    this.use(args);
    checkState(args.state);
    return this.change(args, (row) => {
      row.state = { ...row.state };
      for (const [k, v] of Object.entries(args.state)) {
        Object.defineProperty(row.state, k, { value: structuredClone(v), writable: true, enumerable: true, configurable: true });
      }
    });
  }

  delete(args) {
    this.use(args);
    checkSessionId(args.id);
    const owner = checkOwner(args.owner);
    return this.backend.with((rows) => {
      const row = rows.get(args.id);
      if (row && (owner === null || row.owner === owner)) rows.delete(args.id);
      return null;
    });
  }

  list(args) {
    const now = this.use(args);
    const owner = checkOwner(args.owner);
    return this.backend.with((rows) => {
      const live = [...rows.values()].filter((r) => now < r.expires && (owner === null || r.owner === owner));
      live.sort((a, b) => a.created - b.created || byCodePoint(a.id, b.id));
      return live.map(record);
    });
  }

  cleanup(args) {
    const now = this.use(args);
    return this.backend.with((rows) => {
      let removed = 0;
      for (const [id, row] of rows) {
        if (now >= row.expires) {
          rows.delete(id);
          removed++;
        }
      }
      return removed;
    });
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
    this.end(); // nothing to save: every change is already in the file
    this.defaultHandle = this.openHandle();
    return null;
  }

  end() {
    this.handles.clear();
    this.defaultHandle = null;
    this.backend = null;
  }
}
