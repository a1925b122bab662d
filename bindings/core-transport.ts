/**
 * Core KSR functions about the transport (Kamailio's core kemi.c): what the request came over,
 * and the send flags for its replies and for what it is forwarded as. The flags act on TCP;
 * over UDP they are accepted and change nothing, as in Kamailio.
 */
import type { Context } from '../host/kemi/context.js';
import { fn, type KemiFunctionDef } from '../host/kemi/types.js';
import { SEND_CLOSE, SEND_NO_CONNECT, type TransportProto } from '../host/sip/types.js';

function protoIs(ctx: Context, ...protos: TransportProto[]): boolean {
  return ctx.kind === 'sip' && protos.includes(ctx.src.proto);
}

function family(ctx: Context): 4 | 6 {
  return ctx.src.ip.includes(':') ? 6 : 4;
}

export const transportFunctions: Record<string, KemiFunctionDef> = {
  is_UDP: fn([], 'bool', (_s, ctx) => protoIs(ctx, 'udp'), 'true when the message came over UDP.', true),
  is_TCP: fn([], 'bool', (_s, ctx) => protoIs(ctx, 'tcp'), 'true when the message came over TCP.', true),
  is_TLS: fn([], 'bool', (_s, ctx) => protoIs(ctx, 'tls'), 'true when the message came over TLS (never: no TLS listener yet).', true),
  is_SCTP: fn([], 'bool', () => false, 'true when the message came over SCTP (never here).', true),
  is_WS: fn([], 'bool', (_s, ctx) => protoIs(ctx, 'ws'), 'true when the message came over WebSocket (never: no WebSocket listener yet).', true),
  is_WSS: fn([], 'bool', (_s, ctx) => protoIs(ctx, 'wss'), 'true when the message came over secure WebSocket (never yet).', true),
  is_WSX: fn([], 'bool', (_s, ctx) => protoIs(ctx, 'ws', 'wss'), 'true when the message came over WebSocket, secure or not (never yet).', true),
  is_IPv4: fn([], 'bool', (_s, ctx) => ctx.kind === 'sip' && family(ctx) === 4, 'true when the message came from an IPv4 address.', true),
  is_IPv6: fn([], 'bool', (_s, ctx) => ctx.kind === 'sip' && family(ctx) === 6, 'true when the message came from an IPv6 address.', true),
  is_dst_port: fn(['int'], 'bool', (_s, ctx, port) => ctx.src.localPort === port,
    'true when the message was received on local port `port` (Kamailio\'s dst_port: the port of the receiving socket).', true),

  set_reply_no_connect: fn([], 'bool', (_s, ctx) => ((ctx.replyFlags |= SEND_NO_CONNECT), true),
    'Replies to this request never open a new TCP connection (here they never do: a reply goes on the request\'s connection or not at all).'),
  set_reply_close: fn([], 'bool', (_s, ctx) => ((ctx.replyFlags |= SEND_CLOSE), true),
    'Close the TCP connection of this request once its final reply is written.'),
  set_forward_no_connect: fn([], 'bool', (_s, ctx) => ((ctx.forwardFlags |= SEND_NO_CONNECT), true),
    'Forward / relay this request over TCP only on an open connection: without one, forward and t_relay fail.'),
  set_forward_close: fn([], 'bool', (_s, ctx) => ((ctx.forwardFlags |= SEND_CLOSE), true),
    'Close the TCP connection this request is forwarded / relayed over once it is written.'),
};
