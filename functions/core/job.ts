// The job a callback hands to the worker: the verified DingTalk body plus the idempotency claim.
// It crosses a process boundary (FC async invoke), so the worker parses it with zod again.
import * as z from "zod/mini";
import "./zod-messages.js";

export const JobSchema = z.object({
  v: z.literal(1),
  /** The DingTalk callback body exactly as received and verified; the worker re-parses it. */
  body: z.record(z.string(), z.unknown()),
  claim: z.object({ key: z.string().check(z.minLength(1)), token: z.string().check(z.minLength(1)) }),
  requestId: z.optional(z.string()),
  receivedAt: z.number(),
});

export type Job = z.infer<typeof JobSchema>;

/** Hands a job to the worker: FC async invoke in the cloud, an in-process queue in the gateway. */
export type Dispatch = (job: Job) => Promise<void>;

/** FC's async invocation payload limit is 128 KB; keep a margin for the envelope. */
export const MAX_JOB_BYTES = 120 * 1024;
