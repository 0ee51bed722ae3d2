// BCAST — the notification broadcaster (spec/bcast.md): every published JSON-RPC notification
// reaches every active subscription, in publish order, and a subscription whose buffer is full
// when an event is published ends as "dropped" instead of slowing the publisher down.
//
// Everything is in memory: a broadcaster lives as long as its process. Subscriptions are named
// by this adapter ("b1", "b2", ...); the kit only sends the names back.
import { badRequest, checkJson, closed, describe, invalid, isPlainObject } from "./errors.mjs";
import { writtenAsFloat } from "./json.mjs";
import { checkSessionId } from "./hist.mjs";

export const CLAIMS = ["bcast"];
const DEFAULT_BUFFER_SIZE = 32; // BCAST-011
const MEMBERS = new Set(["jsonrpc", "method", "params"]); // a JSON-RPC 2.0 notification (BCAST-007)

function checkEvent(event) {
  if (!isPlainObject(event)) throw invalid(`an event is a JSON-RPC notification object, not ${describe(event)}`);
  const extra = Object.keys(event).filter((k) => !MEMBERS.has(k));
  if (extra.length) {
    const hint = Object.hasOwn(event, "id") ? " (an id makes it a request, not a notification)" : "";
    throw invalid(`an event has only jsonrpc, method and params; remove ${extra.sort().join(", ")}${hint}`);
  }
  if (event.jsonrpc !== "2.0") throw invalid(`an event's jsonrpc is "2.0", not ${describe(event.jsonrpc)}`);
  if (typeof event.method !== "string" || !event.method) {
    throw invalid(`an event's method is a non-empty string, not ${describe(event.method)}`);
  }
  if (Object.hasOwn(event, "params") && !isPlainObject(event.params)) {
    throw invalid(`an event's params is a JSON object, not ${describe(event.params)}`);
  }
  checkJson(event, "event");
}

function bufferSize(args) {
  const v = args.buffer_size;
  if (v === undefined || v === null) return DEFAULT_BUFFER_SIZE;
  if (typeof v === "bigint" && v > 0n) return Infinity; // more than any run publishes
  if (typeof v === "number" && Number.isInteger(v) && v >= 1 && !writtenAsFloat(args, "buffer_size")) return v;
  throw invalid(`buffer_size is a positive integer, not ${describe(v)}${writtenAsFloat(args, "buffer_size") ? " (a float)" : ""}`);
}

export class Bcast {
  constructor() {
    this.subscriptions = new Map(); // name -> {capacity, buffer, ended}; every one, ended or not
    this.active = new Set(); // insertion order: the order of subscribe
    this.closed = false;
    this.next = 1;
  }

  sub(args) {
    const sub = this.subscriptions.get(args.subscription);
    if (!sub) throw badRequest(`unknown subscription ${describe(args.subscription)}`);
    return sub;
  }

  /** End `sub` for `reason` unless it has ended already; its buffered events stay. */
  finish(sub, reason) {
    if (sub.ended === null) {
      sub.ended = reason;
      this.active.delete(sub);
    }
  }

  subscribe(args) {
    checkSessionId(args.session_id); // attribution only: every event reaches every subscription (BCAST-002)
    const capacity = bufferSize(args);
    const sub = { capacity, buffer: [], ended: this.closed ? "closed" : null }; // BCAST-022
    if (!this.closed) this.active.add(sub);
    const name = `b${this.next++}`;
    this.subscriptions.set(name, sub);
    return name;
  }

  publish(args) {
    if (this.closed) throw closed("the broadcaster is closed; publish nothing more"); // BCAST-023: before the event is judged
    checkEvent(args.event);
    for (const sub of [...this.active]) {
      if (sub.buffer.length >= sub.capacity) this.finish(sub, "dropped"); // BCAST-012: the slow subscriber, not the event
      else sub.buffer.push(structuredClone(args.event)); // a copy: the publisher may go on editing its event
    }
    return null;
  }

  receive(args) {
    const sub = this.sub(args);
    const events = sub.buffer;
    sub.buffer = [];
    return { events, ended: sub.ended };
  }

  cancel(args) {
    this.finish(this.sub(args), "cancelled"); // nothing if it has ended already (BCAST-016, BCAST-017)
    return null;
  }

  subscriber_count() {
    return this.active.size;
  }

  close() {
    if (!this.closed) {
      this.closed = true;
      for (const sub of [...this.active]) this.finish(sub, "closed");
    }
    return null;
  }

  end() {
    this.close();
  }
}
