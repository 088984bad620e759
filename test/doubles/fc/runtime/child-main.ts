// Entry point of a child-process function instance: receives invocations over IPC, runs them with
// the same FC runtime code as the in-process runner, and reports start, logs and the outcome.
import {
  callEventHandler,
  callHttpHandler,
  callInitializer,
  type ContextInit,
  type ErrorOutcome,
  type EventOutcome,
  type HttpOutcome,
  loadHandler,
  makeContext,
  unhandled,
} from "./fc-runtime.js";
import { type ChildMessage, type ParsedInvokeMessage, parseInvokeMessage } from "./ipc.js";

let initialized: Promise<ErrorOutcome | undefined> | undefined;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function contextInit(msg: ParsedInvokeMessage): ContextInit {
  const c = msg.context;
  return {
    ...c,
    credentials: {
      accessKeyId: c.credentials.accessKeyId,
      accessKeySecret: c.credentials.accessKeySecret,
      securityToken: c.credentials.securityToken,
    },
    function: { ...c.function, initializer: c.function.initializer },
  };
}

async function run(msg: ParsedInvokeMessage): Promise<EventOutcome | HttpOutcome> {
  const ctx = makeContext(contextInit(msg), (level, line) => send({ type: "log", id: msg.id, level, line }));
  if (msg.initializer) {
    const initializer = msg.initializer;
    initialized ??= loadHandler(msg.codeDir, initializer).then((fn) => callInitializer(fn, ctx), unhandled);
    const failed = await initialized;
    if (failed) {
      initialized = undefined;
      return failed;
    }
  }
  const fn = await loadHandler(msg.codeDir, msg.handler);
  return msg.input.kind === "event"
    ? callEventHandler(fn, msg.input.payload, ctx)
    : callHttpHandler(fn, msg.input.request, ctx);
}

process.on("message", (raw: unknown) => {
  const msg = parseInvokeMessage(raw);
  if (!msg) return;
  send({ type: "started", id: msg.id });
  run(msg)
    .catch((err: unknown) => unhandled(err))
    .then((outcome) => send({ type: "result", id: msg.id, outcome }))
    .catch(() => process.exit(1));
});

process.on("disconnect", () => process.exit(0));
