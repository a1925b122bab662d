/**
 * registrar's parameters under Kamailio's names (modules.registrar). Those that need what
 * kemihost does not have (xavp_cfg, xavp_rcd, outbound, sock_hdr_name) are not accepted, so a
 * config that relies on them fails at start instead of running differently.
 */
import { z } from 'zod';

const flag = z.number().int().min(0).max(1);

export const registrarParams = z
  .object({
    default_expires: z.number().int().min(0).default(3600)
      .describe('seconds, for a Contact with neither an expires parameter nor an Expires header'),
    default_expires_range: z.number().int().min(0).max(100).default(0)
      .describe('percent: default_expires is made random in [default_expires - range%, default_expires]'),
    expires_range: z.number().int().min(0).max(100).default(0)
      .describe('percent: the same for the expires the UA asked for (save flag 0x08 turns both off)'),
    min_expires: z.number().int().min(0).default(60)
      .describe('seconds; a lower non-zero expires is raised to it, or refused with 423 (min_expires_mode 1); 0: no minimum'),
    min_expires_mode: flag.default(0).describe('1: an expires below min_expires gets 423 Interval Too Brief with Min-Expires; 0: it is raised'),
    max_expires: z.number().int().min(0).default(0).describe('seconds; a higher expires is lowered to it; 0: no maximum'),
    default_q: z.number().int().min(-1).max(1000).default(-1)
      .describe('q × 1000 for a Contact without q; -1: unspecified (printed nowhere, sorted after every given q)'),
    realm_prefix: z.string().default('').describe('with usrloc use_domain: stripped from the AoR\'s domain ("sip." makes sip.example.com example.com)'),
    append_branches: flag.default(1).describe('1: lookup puts the other contacts of the AoR in the destination set (t_relay forks to all); 0: the best one only'),
    case_sensitive: flag.default(0).describe('1: the AoR\'s user part keeps its case; 0: the whole AoR is lowercased'),
    received_avp: z.string().regex(/^(\$avp\([^)]+\))?$/, { message: 'expected an AVP, e.g. $avp(RECEIVED)' }).default('')
      .describe('the AVP (set by nathelper\'s fix_nated_register, or by the script) whose value save() stores as the contact\'s received address; lookup then sets $du to it'),
    received_param: z.string().default('received')
      .describe('the Contact parameter that shows a contact\'s received address in the 200; empty: not shown'),
    max_contacts: z.number().int().min(0).default(0)
      .describe('contacts an AoR may have; a REGISTER that would exceed it gets 503 Service Unavailable and save() returns -2; 0: no limit'),
    retry_after: z.number().int().min(0).default(0).describe('seconds; a Retry-After header in the registrar\'s 5xx replies; 0: none'),
    method_filtering: flag.default(0)
      .describe('1: lookup for a request without To-tag skips contacts whose Allow (at REGISTER) did not list its method; -2 when only such contacts exist'),
    use_path: flag.default(0).describe('1: save() stores the Path headers (RFC 3327) with the contacts and lookup routes through them'),
    path_mode: z.number().int().min(0).max(2).default(2)
      .describe('with use_path: 0 Path stored, not in the reply; 1 in the reply when the UA says Supported: path; 2 (RFC 3327) a REGISTER with Path but without Supported: path gets 420 Bad Extension'),
    path_use_received: flag.default(0)
      .describe('1: the received parameter of the first Path URI becomes the contact\'s received address and the contact is marked NATed (usrloc nat_bflag)'),
    path_check_local: flag.default(0).describe('1: lookup skips the first Path hop when it is this server'),
    gruu_enabled: flag.default(1)
      .describe('accepted for compatibility: +sip.instance and reg-id are stored and shown, but no pub-gruu/temp-gruu is generated'),
    contact_max_size: z.number().int().min(1).max(512).default(512)
      .describe('longest Contact URI accepted; a longer one gets 400 (the location table\'s contact column holds 512)'),
    use_expired_contacts: flag.default(0).describe('1: lookup and registered() also use contacts that expired but are not removed yet'),
  })
  .strict();

export type RegistrarParams = z.infer<typeof registrarParams>;
