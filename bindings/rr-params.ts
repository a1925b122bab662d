/** The rr module's parameters, under Kamailio's names (modules.rr in the config file). */
import { z } from 'zod';

const flag = (d: 0 | 1): z.ZodDefault<z.ZodNumber> => z.number().int().min(0).max(1).default(d);

export const rrParams = z
  .object({
    enable_full_lr: flag(0).describe('1: write `;lr=on` instead of `;lr` in Record-Route (for UAs that drop a bare `;lr`)'),
    append_fromtag: flag(1).describe('1: add the From-tag (`;ftag=`) to Record-Route, so is_direction can tell the caller\'s requests from the callee\'s'),
    enable_double_rr: z.number().int().min(0).max(2).default(1)
      .describe('1: two Record-Route headers (with `;r2=on`) when a request leaves on another socket than it came in on (transport, address or port); 2: always two; 0: one, naming the receiving socket'),
    add_username: flag(0).describe('1: put the R-URI\'s user part in the Record-Route URI'),
    force_send_socket: flag(0).describe('1: an in-dialog request leaves from the socket our Route names even with one Record-Route (with two it always does)'),
    ignore_sips: flag(0).describe('1: always `sip:` in Record-Route; 0: `sips:` when the R-URI is sips'),
    enable_socket_mismatch_warning: flag(1).describe('accepted for compatibility; a Route of ours naming a socket we do not have is sent from the default socket without a warning'),
  })
  .strict();

export type RrParams = z.infer<typeof rrParams>;
