/**
 * The transaction timers (RFC 3261 §17, Table 4) under Kamailio's tm parameter names. The
 * schema is the tm module's `params` (modules.tm in the config file) and the router builds the
 * transaction layer from the same values, so both read one definition.
 */
import { z } from 'zod';

export const tmParams = z
  .object({
    fr_timer: z.number().int().min(10).default(5000)
      .describe('ms to wait for a final reply to a relayed request (Timer B/F; for an INVITE until the first provisional reply), and for a non-INVITE transaction nobody answers or resumes; on expiry: 408 and the failure route'),
    fr_inv_timer: z.number().int().min(10).default(120_000)
      .describe('ms to wait for a final reply to a relayed INVITE once a provisional reply came (Timer C), and for an INVITE transaction nobody answers or resumes (e.g. suspended); on expiry: 408 and the failure route'),
    retr_timer1: z.number().int().min(5).default(500)
      .describe('T1, ms: first retransmission interval over UDP (requests, final replies, 2xx until the ACK); 64*T1 is how long a final reply waits for its ACK'),
    retr_timer2: z.number().int().min(5).default(4000)
      .describe('T2, ms: the largest retransmission interval (the doubling stops here)'),
    wt_timer: z.number().int().min(0).default(5000)
      .describe('ms a completed transaction stays over UDP to absorb retransmissions (Timers I, J, D and K; 0 over TCP)'),
    auto_inv_100: z.number().int().min(0).max(1).default(1)
      .describe('1: send 100 Trying as soon as an INVITE transaction is created'),
    auto_inv_100_reason: z.string().min(1).default('Trying').describe('reason phrase of that 100'),
    failure_reply_mode: z.literal(3).default(3)
      .describe('accepted for compatibility, 3 only (Kamailio\'s default, set by its example config): when a failure route starts a new serial leg, the branches of the previous legs are discarded, so the next failure route and the reply sent upstream come from the new leg. Modes 0-2 (keep them) are not implemented and refused'),
  })
  .strict();

export type TmParams = z.infer<typeof tmParams>;

/** The values the transaction layer runs with, in ms. */
export interface TransactionTimers {
  readonly t1: number;
  readonly t2: number;
  readonly fr: number;
  readonly frInv: number;
  readonly wait: number;
  readonly auto100: boolean;
  readonly auto100Reason: string;
}

export function timersFrom(raw: unknown): TransactionTimers {
  const p = tmParams.parse(raw ?? {});
  return {
    t1: p.retr_timer1,
    t2: Math.max(p.retr_timer1, p.retr_timer2),
    fr: p.fr_timer,
    frInv: p.fr_inv_timer,
    wait: p.wt_timer,
    auto100: p.auto_inv_100 === 1,
    auto100Reason: p.auto_inv_100_reason,
  };
}
