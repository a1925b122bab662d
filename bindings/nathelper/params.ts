/**
 * nathelper's parameters under Kamailio's names (modules.nathelper). Those that need what
 * kemihost does not have (raw sockets: natping_socket, udpping_from_path; several timer
 * processes) are accepted only at their defaults, so a config relying on them fails at start.
 */
import { z } from 'zod';

const flag = z.number().int().min(0).max(1);
const bflag = z.number().int().min(-1).max(31);

export const nathelperParams = z
  .object({
    received_avp: z.string().regex(/^(\$avp\([^)]+\))?$/, { message: 'expected an AVP, e.g. $avp(RECEIVED)' }).default('')
      .describe('the AVP fix_nated_register writes the source URI to; set the registrar\'s received_avp to the same AVP; empty: fix_nated_register does nothing'),
    natping_interval: z.number().int().min(0).max(86400).default(0)
      .describe('seconds between two rounds of keepalives to the registered contacts (usrloc); 0: no keepalives'),
    ping_nated_only: flag.default(0).describe('1: only contacts saved with usrloc\'s nat_bflag set get keepalives; 0: every UDP contact'),
    natping_processes: z.literal(1).default(1).describe('accepted for compatibility: one event loop sends the keepalives'),
    natping_max_per_tick: z.number().int().min(1).max(100000).default(1000)
      .describe('kemihost: at most this many keepalives per round (the oldest-pinged contacts first); the rest wait for the next round'),
    force_socket: z.string().regex(/^((udp:)?(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d+)?$/, { message: 'expected [udp:]ip:port of a listen socket' }).default('')
      .describe('our UDP socket ([udp:]ip:port) keepalives leave from; empty: the socket the contact registered on'),
    sipping_bflag: bflag.default(-1).describe('branch flag marking contacts that get a SIP request (sipping_method) as keepalive instead of a 4-byte UDP packet; -1: none'),
    sipping_from: z.string().default('').describe('From URI of the keepalive requests; needed for SIP keepalives'),
    sipping_method: z.string().regex(/^[A-Za-z]+$/).default('OPTIONS').describe('method of the keepalive requests'),
    natping_disable_bflag: bflag.default(-1).describe('branch flag: contacts saved with it get no keepalive at all; -1: none'),
    nortpproxy_str: z.string().default('a=nortpproxy:yes\r\n')
      .describe('the SDP line fix_nated_sdp flag 0x04 adds (a complete line, with CRLF); empty: none'),
    keepalive_timeout: z.number().int().min(0).default(0)
      .describe('seconds: a contact pinged with SIP keepalives that answered none for this long is removed from the location table; 0: never'),
    udpping_from_path: z.literal(0).default(0).describe('accepted at 0 only: keepalives from the Path address need raw sockets'),
    append_sdp_oldmediaip: flag.default(1).describe('1: fix_nated_sdp adds a=oldmediaip (and a=oldoriginip) with the address it replaced'),
    filter_server_id: flag.default(0).describe('accepted for compatibility: one kemihost instance pings every contact it has'),
    nat_addr_mode: flag.default(1).describe('1: nat_uac_test and is_rfc1918 also count 192.0.0.0/24 as private; 0: the default ranges only'),
    alias_name: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('alias')
      .describe('name of the Contact URI parameter set_contact_alias/add_contact_alias add and handle_ruri_alias reads'),
  })
  .strict();

export type NathelperParams = z.infer<typeof nathelperParams>;
