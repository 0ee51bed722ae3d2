// HIST — the conversation-history store (spec/hist.md), kept in memory and in one JSON file.
//
// Claims hist, hist.persistent (every change is written to <storage_dir>/hist.json before the
// call returns) and hist.shared-handles (handles on one id share one list).
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { writtenAsFloat } from "./json.mjs";
import { badRequest, checkJson, closed, describe, invalid, isPlainObject } from "./errors.mjs";

export const CLAIMS = ["hist", "hist.persistent", "hist.shared-handles"];

export function checkSessionId(id) {
  if (typeof id !== "string") throw invalid(`a session id is a string, not ${describe(id)}`);
  let count = 0;
  for (const ch of id) {
    const cp = ch.codePointAt(0);
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff)) {
      throw invalid(`a session id cannot contain U+${cp.toString(16).toUpperCase().padStart(4, "0")}`);
    }
    count++;
  }
  if (count < 1 || count > 256) throw invalid(`a session id has 1 to 256 code points, this one has ${count}`);
}

/** null for "no limit"; a number (Infinity for a huge integer) otherwise. */
function limitOf(args, key) {
  if (!(key in args) || args[key] === null) return null;
  const v = args[key];
  if (typeof v === "bigint" && v >= 0n) return Infinity;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && !writtenAsFloat(args, key)) return v;
  throw invalid(`${key} is null or a non-negative integer, not ${describe(v)}${writtenAsFloat(args, key) ? " (a float)" : ""}`);
}

class Backend {
  constructor(storageDir) {
    this.file = join(storageDir, "hist.json");
    this.sessions = new Map(existsSync(this.file) ? JSON.parse(readFileSync(this.file, "utf8")) : []);
  }

  items(id) {
    return this.sessions.get(id) ?? [];
  }

  write(id, items) {
    if (items.length) this.sessions.set(id, items);
    else this.sessions.delete(id);
    // Write a new file and rename it over the old one: a crash leaves one or the other, whole.
    writeFileSync(`${this.file}.tmp`, JSON.stringify([...this.sessions]));
    renameSync(`${this.file}.tmp`, this.file);
  }
}

export class Hist {
  constructor(instance) {
    this.instance = instance;
    this.backend = null;
    this.handles = new Map();
    this.next = 1;
    this.backendClosed = false;
  }

  handle(args) {
    const h = this.handles.get(args.handle);
    if (!h) throw badRequest(`unknown handle ${describe(args.handle)}`);
    this._live();
    if (h.closed) throw closed(`handle ${args.handle} on session ${describe(h.id)} is closed`);
    return h;
  }

  /** A closed backend answers closed, before any argument is looked at (HIST-030, HIST-031). */
  _live() {
    if (this.backendClosed) throw closed("the history backend is closed; hist.restart opens a new one");
  }

  open(args) {
    this._live();
    checkSessionId(args.session_id);
    const defaultLimit = limitOf(args, "default_limit");
    this.backend ??= new Backend(this.instance.storageDir);
    const name = `h${this.next++}`;
    this.handles.set(name, { id: args.session_id, defaultLimit, closed: false });
    return name;
  }

  get_items(args) {
    const h = this.handle(args);
    const limit = limitOf(args, "limit") ?? h.defaultLimit;
    const items = this.backend.items(h.id);
    // Copies out (HIST-028): a caller that edits what it read must not edit the history.
    return structuredClone(limit === null || limit >= items.length ? items : items.slice(items.length - limit));
  }

  add_items(args) {
    const h = this.handle(args);
    const batch = args.items;
    if (!Array.isArray(batch)) throw invalid(`items is an array of items, not ${describe(batch)}`);
    batch.forEach((item, k) => {
      if (!isPlainObject(item)) throw invalid(`items[${k}] is a JSON object, not ${describe(item)}`);
      checkJson(item, `items[${k}]`);
    });
    // Copies in (HIST-028): the caller may go on editing the items it passed.
    if (batch.length) this.backend.write(h.id, [...this.backend.items(h.id), ...structuredClone(batch)]);
    return null;
  }

  pop_item(args) {
    const h = this.handle(args);
    const items = this.backend.items(h.id);
    if (!items.length) return null;
    this.backend.write(h.id, items.slice(0, -1));
    return structuredClone(items[items.length - 1]);
  }

  clear_session(args) {
    const h = this.handle(args);
    this.backend.write(h.id, []);
    return null;
  }

  close(args) {
    const h = this.handles.get(args.handle);
    if (!h) throw badRequest(`unknown handle ${describe(args.handle)}`);
    h.closed = true; // a second close changes nothing (HIST-024)
    return null;
  }

  close_backend() {
    this.backendClosed = true; // its handles stay, and answer closed
    return null;
  }

  restart() {
    this.end();
    this.backendClosed = false;
    this.backend = new Backend(this.instance.storageDir);
    return null;
  }

  end() {
    for (const h of this.handles.values()) h.closed = true;
    this.handles.clear();
    this.backend = null;
  }
}
