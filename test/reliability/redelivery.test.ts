// 1,000 messages through the real path with random redelivery (0–5 extra copies: concurrent, soon after,
// right after a simulated worker crash, after the lease expired) and crashes at every point of the
// worker, recovered by the queue's retry, a late retry, or only by a later redelivery → each answered once.
// On dynalite, and with 300 messages on the Tablestore double (the same plan, fewer messages for time).
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scopeKey } from "../../functions/core/agent.js";
import type { Job } from "../../functions/core/job.js";
import type { TableKind } from "../../functions/core/store/kind.js";
import {
  createRng,
  expectNoSecrets,
  llmCallsByTag,
  pool,
  print,
  repliesByTag,
  runSeed,
  startRig,
  summary,
  tag,
  type CrashPoint,
  type Rig,
} from "./harness.js";

const SEED = runSeed();
const LEASE_MS = 180_000;


type CopyTiming = "concurrent" | "soon" | "after_crash" | "after_lease";
type Recovery = "retry" | "late_retry" | "redelivery_only";

interface Plan {
  i: number;
  body: Record<string, unknown>;
  /** Delay of "soon" copies, ms. */
  soonMs: number;
  copies: CopyTiming[];
  crashes: CrashPoint[];
  recovery: Recovery;
}

const POINTS: CrashPoint[] = ["before_llm", "after_llm", "before_send", "after_send"];

/** The suite on one backend, with `MESSAGES` messages (Tablestore runs fewer: the suite's time budget). */
function redeliveryOn(backend: TableKind, MESSAGES: number): void {
  describe(`redelivery under crashes (${backend})`, () => {
    let rig: Rig;
    const plans: Plan[] = [];
    const byMsgId = new Map<string, Plan>();
    const held: Job[] = [];
    const statuses = new Map<number, number>();
    const inflight = new Set<Promise<void>>();
    let deliveries = 0;

    function track(p: Promise<void>): void {
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }

    async function deliver(plan: Plan): Promise<void> {
      const res = await rig.deliver(plan.body);
      deliveries++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }

    /** Until every delivery has returned and the queue is empty (deliveries may add jobs, crashes may add deliveries). */
    async function settle(): Promise<void> {
      for (;;) {
        await Promise.all([...inflight]);
        await rig.idle();
        if (inflight.size === 0 && rig.dispatcher.pending === 0) return;
      }
    }

    beforeAll(async () => {
      rig = await startRig({
        backend,
        world: { config: { agents: { defaults: { max_history_tokens: 1_000_000 } } } },
        workers: 3,
        concurrency: 24,
        hooks: {
          crashAt: (msgId, attempt) => byMsgId.get(msgId)?.crashes[attempt - 1],
          onCrash: (msgId, _point, job) => {
            const plan = byMsgId.get(msgId)!;
            const afterCrash = plan.copies.filter((c) => c === "after_crash").length;
            for (let k = 0; k < afterCrash; k++) track(deliver(plan));
            plan.copies = plan.copies.filter((c) => c !== "after_crash");
            if (plan.recovery === "retry") return "retry";
            if (plan.recovery === "late_retry") held.push(job);
            return "drop";
          },
        },
      });

      const rng = createRng(SEED);
      const start = rig.clock.now();
      for (let i = 0; i < MESSAGES; i++) {
        const group = rng.chance(0.2);
        const staffId = `rd-u${rng.int(0, 39)}`;
        const text = `${tag(i)} ${rng.pick(["你好", "帮我总结一下", "what's next?", "明天开会吗？", "🙂 ok"])}`;
        // One in ten session webhooks has expired: those replies go through the robot OpenAPI (access token).
        const common = { staffId, text, createAt: start + i * 10, ...(rng.chance(0.1) ? { webhookTtlMs: -60_000 } : {}) };
        const body = group
          ? rig.w.message({ ...common, type: "group", conversationId: `cidRelGroup${rng.int(0, 4)}==` })
          : rig.w.message({ ...common, conversationId: `cidRel${staffId}==` });
        const crashed = rng.chance(0.4);
        const recovery: Recovery = !crashed ? "retry" : rng.pick<Recovery>(["retry", "retry", "late_retry", "redelivery_only"]);
        const crashes = !crashed ? [] : recovery === "retry" && rng.chance(0.3) ? [rng.pick(POINTS), rng.pick(POINTS)] : [rng.pick(POINTS)];
        // 0–5 extra copies, fewer more likely (mean ≈ 1.7), as with real redeliveries.
        const copies = Array.from({ length: rng.pick([0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 5]) }, () =>
          rng.pick<CopyTiming>(crashed ? ["concurrent", "soon", "after_crash", "after_lease"] : ["concurrent", "soon", "after_lease"]),
        );
        if (recovery === "redelivery_only" && !copies.includes("after_lease")) copies.push("after_lease");
        const plan: Plan = { i, body, soonMs: rng.int(0, 20), copies, crashes, recovery };
        plans.push(plan);
        byMsgId.set(body.msgId as string, plan);
      }
    }, 60_000);

    afterAll(() => rig?.close());

      it(`answers ${MESSAGES} randomly redelivered messages exactly once (seed ${SEED})`, async () => {
        const started = performance.now();
        const cpu = process.cpuUsage();
        // Phase 1: first deliveries with their concurrent and soon-after copies; crashes add their copies.
        await pool(plans, 12, async (plan) => {
          const concurrent = plan.copies.filter((c) => c === "concurrent").length;
          for (const _ of plan.copies.filter((c) => c === "soon")) track(delay(plan.soonMs).then(() => deliver(plan)));
          await Promise.all([deliver(plan), ...Array.from({ length: concurrent }, () => deliver(plan))]);
        });
        await settle();
        const answeredBeforeLease = repliesByTag(rig.w).counts.size;

        // Phase 2: every lease expired; late redeliveries arrive together with the late queue retries.
        rig.clock.advance(LEASE_MS + 1_000);
        const late = plans.flatMap((p) => p.copies.filter((c) => c === "after_lease").map(() => p));
        await pool(late, 12, (plan) => deliver(plan));
        for (const job of held.splice(0)) await rig.dispatcher.dispatch(job);
        await settle();
        const seconds = (performance.now() - started) / 1000;
        const cpuUsed = process.cpuUsage(cpu);

        const { counts, untagged } = repliesByTag(rig.w);
        const llm = llmCallsByTag(rig.w);
        const duplicates = plans.filter((p) => (counts.get(p.i) ?? 0) > 1).map((p) => p.i);
        const unanswered = plans.filter((p) => !counts.has(p.i)).map((p) => p.i);
        const crashesOf = (msgId: string, point?: CrashPoint) =>
          rig.crashes.filter((c) => c.msgId === msgId && (!point || c.point === point)).length;
        const llmMismatch = plans
          .filter((p) => (llm.get(p.i) ?? 0) !== 1 + crashesOf(p.body.msgId as string, "after_llm"))
          .map((p) => `${p.i}: ${llm.get(p.i) ?? 0} calls, crashes ${p.crashes.join("+")}`);
        const totalLlm = [...llm.values()].reduce((a, b) => a + b, 0);
        const byPoint = Object.fromEntries(POINTS.map((pt) => [pt, rig.crashes.filter((c) => c.point === pt).length]));

        summary(backend === "dynamodb" ? "redelivery" : `redelivery-${backend}`, {
          seed: SEED,
          messages: MESSAGES,
          deliveries,
          crashes: rig.crashes.length,
          ...byPoint,
          recoveredByRedeliveryOnly: plans.filter((p) => p.recovery === "redelivery_only" && p.crashes.length > 0).length,
          lateRetries: plans.filter((p) => p.recovery === "late_retry" && p.crashes.length > 0).length,
          answeredBeforeLeaseExpiry: answeredBeforeLease,
          duplicates: duplicates.length,
          unanswered: unanswered.length,
          llmCalls: totalLlm,
          llmPerMessage: (totalLlm / MESSAGES).toFixed(3),
          durationS: seconds.toFixed(1),
          cpuS: ((cpuUsed.user + cpuUsed.system) / 1e6).toFixed(1),
        });

        const why = `seed ${SEED} (replay: RELIABILITY_SEED=${SEED})`;
        const historyOf = (i: number) => {
          const p = plans[i]!;
          const msgId = p.body.msgId as string;
          const runs = rig.outcomes.filter((o) => o.msgId === msgId).map((o) => o.error ?? o.outcome?.status);
          return `${i}: copies ${p.copies.join(",") || "-"}, crashes ${p.crashes.join("+") || "-"} (${p.recovery}), attempts: ${runs.join(" | ")}`;
        };
        if (duplicates.length + unanswered.length > 0) print([...duplicates, ...unanswered].slice(0, 10).map(historyOf).join("\n"));
        expect([...statuses.keys()], why).toEqual([200]);
        expect(rig.crashes.length, why).toBeGreaterThan(MESSAGES / 5);
        expect(duplicates, why).toEqual([]);
        expect(unanswered, why).toEqual([]);
        expect(untagged, why).toEqual([]);
        expect(llmMismatch, why).toEqual([]);
        expect(rig.outcomes.filter((o) => o.error && !o.error.startsWith("SimulatedCrash")), why).toEqual([]);
      }, 150_000);

      it("kept every turn exactly once, in order, in each conversation", async () => {
        const expected = new Map<string, string[]>();
        for (const p of plans) {
          const key = scopeKey(rig.w.parse(p.body), "conversation");
          expected.set(key, [...(expected.get(key) ?? []), p.body.msgId as string]);
        }
        const problems: string[] = [];
        for (const [key, msgIds] of expected) {
          const conv = await rig.workers[0]!.conversations.load(key);
          const users = conv.turns.filter((t) => t.role === "user").map((t) => t.msgId);
          const answers = conv.turns.filter((t) => t.role === "assistant").map((t) => t.msgId);
          if (JSON.stringify(users) !== JSON.stringify(msgIds)) problems.push(`${key}: user turns differ`);
          if (JSON.stringify(answers) !== JSON.stringify(msgIds)) problems.push(`${key}: answers differ`);
        }
        expect(problems, `seed ${SEED}`).toEqual([]);
        expect(expected.size).toBeGreaterThan(20);
      }, 30_000);

      it("wrote no secret into any log line or reply", () => {
        const scanned = expectNoSecrets(rig, rig.w.dt.sent().map((s) => `${s.title ?? ""}\n${s.text ?? ""}`), SEED);
        summary(backend === "dynamodb" ? "redelivery-secrets" : `redelivery-secrets-${backend}`, { seed: SEED, linesScanned: scanned, secrets: rig.secrets().length, leaks: 0 });
      }, 10_000);
  });
}

redeliveryOn("dynamodb", 1000);
redeliveryOn("tablestore", 300);
