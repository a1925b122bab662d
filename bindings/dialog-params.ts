/** The dialog module's parameters: Kamailio's names and defaults (docs/dialog.md). */
import { z } from 'zod';

const flag = z.number().int().min(-1).max(31);
const seconds = z.number().int().min(1).max(10 * 365 * 86400);
const profileList = z.string().regex(/^[\sA-Za-z0-9_;-]*$/, { message: 'expected profile names separated by ";"' });

export const dialogParams = z
  .object({
    enable_stats: z.number().int().min(0).max(1).default(1).describe('Kamailio: statistics on/off; they are always kept here'),
    hash_size: z.number().int().min(1).max(1 << 20).default(4096).describe('buckets of the dialog table: the range of h_entry'),
    rr_param: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('did').describe('the Record-Route parameter holding the dialog cookie (h_entry.h_id in hex)'),
    dlg_flag: flag.default(-1).describe('message flag that makes t_relay create a dialog for an initial INVITE (-1: none; dlg_manage needs no flag)'),
    timeout_avp: z.string().regex(/^\$avp\([^()]+\)$/).optional().describe('an AVP holding the dialog timeout in seconds, read when the dialog is made'),
    default_timeout: seconds.default(43200).describe('dialog lifetime in seconds after the 2xx (reset by in-dialog requests unless timeout_noreset)'),
    early_timeout: seconds.default(300).describe('seconds a dialog may wait for a final reply before it is dropped'),
    noack_timeout: seconds.default(60).describe('Kamailio: lifetime of a 2xx without ACK; accepted, not applied (the dialog timeout applies)'),
    end_timeout: seconds.default(300).describe('Kamailio: how long an ended dialog is kept; accepted, not applied (ended dialogs are removed at once)'),
    dlg_extra_hdrs: z.string().default('').describe('header lines added to the BYEs this server sends ("Name: value", CRLF between lines)'),
    dlg_match_mode: z.number().int().min(0).max(2).default(0).describe('in-dialog matching: 0 by the rr cookie only, 1 cookie then Call-ID/tags, 2 Call-ID/tags only (no cookie added)'),
    detect_spirals: z.number().int().min(0).max(1).default(1).describe('an initial INVITE coming back through us joins the dialog it made'),
    profiles_with_value: profileList.default('').describe('profiles whose members carry a value, ";"-separated'),
    profiles_no_value: profileList.default('').describe('profiles without values, ";"-separated'),
    send_bye: z.number().int().min(0).max(1).default(0).describe('1: a dialog that times out gets a BYE to both sides (else only with dlg_set_property("timeout-bye") or $dlg_ctx(timeout_bye)=1)'),
    timeout_noreset: z.number().int().min(0).max(1).default(0).describe('1: in-dialog requests do not restart the dialog timeout'),
    event_callback: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional()
      .describe('a script function called with "dialog:start" (2xx), "dialog:end" (BYE or timeout) or "dialog:failed" (final failure), after the message that caused it; $dlg and $dlg_var read the dialog there'),
    wait_ack: z.number().int().min(0).max(1).default(1).describe('Kamailio: keep a failed dialog for its ACK; accepted, changes nothing (tm absorbs that ACK)'),
    db_mode: z.literal(0).default(0).describe('only 0 (no database): dialogs live in memory and do not survive a restart'),
    max_dialogs: z.number().int().min(1).max(10_000_000).default(100_000)
      .describe('kemihost: dialogs kept at most; past it dlg_manage answers -1 and the INVITE goes on without a dialog'),
  })
  .strict();

export type DialogParams = z.infer<typeof dialogParams>;

/** "a ; b;c" → ["a","b","c"] */
export function profileNames(list: string): string[] {
  return list.split(';').map((x) => x.trim()).filter((x) => x !== '');
}
