// TASK — A2A-style tasks and contexts (spec/identity.md): the server side of message/send and
// tasks/get, reduced to identities and states. The kit drives every transition with set_state.
//
// The server mints every task and context id; a task of another owner answers exactly as a task
// that does not exist. When a call has several faults, the error is the first in the contract's
// precedence (TASK-014): the arguments themselves, then existence, then the state of the task.
import { randomBytes } from "node:crypto";

import { AdapterError, checkJson, describe, invalid, isPlainObject, notFound } from "./errors.mjs";
import { checkSessionId } from "./hist.mjs";

export const CLAIMS = ["task"];
const STATES = ["submitted", "working", "input-required", "auth-required", "completed", "failed", "canceled", "rejected"];
const TERMINAL = new Set(["completed", "failed", "canceled", "rejected"]);

/** A fresh id: a prefix, "_" and 128 random bits as 32 hexadecimal digits (spec/identity.md § Id formats). */
export const mint = (prefix) => `${prefix}_${randomBytes(16).toString("hex")}`;

/** A caller-supplied id follows the HIST session-id rule; `what` names it in the message. */
export function checkId(value, what) {
  try {
    checkSessionId(value);
  } catch (e) {
    throw invalid(`${what}: ${e.message.replace("a session id", "an id")}`);
  }
  return value;
}

const optionalId = (value, what) => (value === undefined || value === null ? null : checkId(value, what));

function idList(value, what) {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${what} is an array of ids, not ${describe(value)}`);
  return value.map((v, k) => checkId(v, `${what}[${k}]`));
}

const failedPrecondition = (message) => new AdapterError("failed_precondition", message);

export class Task {
  constructor() {
    this.tasks = new Map(); // task id -> {task_id, context_id, owner, state, history, reference_task_ids}
    this.contexts = new Map(); // context id -> {owner, taskIds}
  }

  owned(map, id, owner) {
    const found = map.get(id);
    return found && found.owner === owner ? found : null;
  }

  findTask(id, owner) {
    const task = this.owned(this.tasks, id, owner);
    if (!task) throw notFound(`no task ${describe(id)} for this owner; task ids are minted by the server, send without one`);
    return task;
  }

  findContext(id, owner) {
    const context = this.owned(this.contexts, id, owner);
    if (!context) throw notFound(`no context ${describe(id)} for this owner; context ids are minted by the server`);
    return context;
  }

  view(task) {
    const { task_id, context_id, state, history, reference_task_ids } = task;
    return structuredClone({ task_id, context_id, state, history, reference_task_ids });
  }

  send(args) {
    // invalid_argument: the arguments themselves, then a task named with another context
    const owner = checkId(args.owner, "owner");
    if (!isPlainObject(args.message)) throw invalid(`message is a JSON object, not ${describe(args.message)}`);
    checkJson(args.message, "message");
    const contextId = optionalId(args.context_id, "context_id");
    const taskId = optionalId(args.task_id, "task_id");
    const references = idList(args.reference_task_ids, "reference_task_ids");
    const named = taskId === null ? null : this.owned(this.tasks, taskId, owner);
    if (named && contextId !== null && contextId !== named.context_id) {
      throw invalid(`task ${describe(taskId)} is not in context ${describe(contextId)}; omit context_id or pass its own`);
    }
    // not_found: references, the named task, the named context
    for (const reference of references) this.findTask(reference, owner);
    let task;
    if (taskId !== null) {
      task = this.findTask(taskId, owner);
      if (TERMINAL.has(task.state)) {
        throw failedPrecondition(`task ${describe(taskId)} is ${task.state}, which is final; send without task_id for a follow-up`);
      }
      task.state = "working";
    } else {
      const context = contextId === null ? this.newContext(owner) : this.findContext(contextId, owner);
      task = { task_id: mint("task"), context_id: context.id, owner, state: "working", history: [], reference_task_ids: [] };
      this.tasks.set(task.task_id, task);
      context.taskIds.push(task.task_id);
    }
    task.history.push(structuredClone(args.message));
    for (const reference of references) {
      if (!task.reference_task_ids.includes(reference)) task.reference_task_ids.push(reference); // once each (TASK-010)
    }
    return this.view(task);
  }

  newContext(owner) {
    const context = { id: mint("ctx"), owner, taskIds: [] };
    this.contexts.set(context.id, context);
    return context;
  }

  get(args) {
    const owner = checkId(args.owner, "owner");
    return this.view(this.findTask(checkId(args.task_id, "task_id"), owner));
  }

  set_state(args) {
    const owner = checkId(args.owner, "owner");
    const taskId = checkId(args.task_id, "task_id");
    if (!STATES.includes(args.state)) throw invalid(`state is one of ${STATES.join(", ")}; got ${describe(args.state)}`);
    const task = this.findTask(taskId, owner);
    if (TERMINAL.has(task.state)) {
      throw failedPrecondition(`task ${describe(taskId)} is ${task.state}, which is final; it cannot become ${args.state}`);
    }
    task.state = args.state;
    return this.view(task);
  }

  list(args) {
    const owner = checkId(args.owner, "owner");
    const contextId = optionalId(args.context_id, "context_id");
    // Map keeps insertion order: oldest created first.
    if (contextId === null) return [...this.tasks.values()].filter((t) => t.owner === owner).map((t) => this.view(t));
    return this.findContext(contextId, owner).taskIds.map((id) => this.view(this.tasks.get(id)));
  }

  end() {
    this.tasks.clear();
    this.contexts.clear();
  }
}
