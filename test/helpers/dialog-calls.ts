/**
 * Calls for the dialog binding tests: a UAC calls a UAS (FlowEnv peers) through the server under
 * test, INVITE/200/ACK, then in-dialog requests along the route set the 200 brought; dlg.list.
 */
import type { SipMessage } from '../../host/sip/message.js';
import type { FlowEnv } from './flow-cases.js';
import { rpcResult } from './rpc.js';
import { randomToken, type UdpPeer } from './sip-client.js';

/** A 2xx/1xx from the UAS to what it received, with a Contact and the To-tag "callee". */
export function answer(req: SipMessage, code: number, uas: UdpPeer): string {
  const lines = [`SIP/2.0 ${String(code)} ${code === 200 ? 'OK' : 'Ringing'}`];
  for (const v of req.getHeaders('via')) lines.push(`Via: ${v}`);
  for (const v of req.getHeaders('record-route')) lines.push(`Record-Route: ${v}`);
  lines.push(`From: ${req.getHeader('from') ?? ''}`, `To: ${req.getHeader('to') ?? ''}${req.to.tag === '' ? ';tag=callee' : ''}`);
  lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.getHeader('cseq') ?? ''}`, `Contact: <sip:bob@127.0.0.1:${String(uas.port)}>`, 'Content-Length: 0', '', '');
  return lines.join('\r\n');
}

export async function nextRequest(peer: UdpPeer, method: string, timeoutMs = 3000): Promise<SipMessage> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = await peer.next(Math.max(1, end - Date.now()));
    if (m === null) throw new Error(`no ${method} within ${String(timeoutMs)} ms`);
    if (m.isRequest && m.method === method) return m;
  }
}

/** The first reply that passes `pred`, or an error after timeoutMs. */
export async function nextReply(peer: UdpPeer, pred: (m: SipMessage) => boolean, timeoutMs = 3000): Promise<SipMessage> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = await peer.next(Math.max(1, end - Date.now()));
    if (m === null) throw new Error(`no such reply within ${String(timeoutMs)} ms`);
    if (!m.isRequest && pred(m)) return m;
  }
}

export interface Call {
  callId: string;
  invite: SipMessage;
  route: string;
  /** an in-dialog request from the caller, to the server */
  inDialog(method: string, cseq: number): void;
}

/** INVITE (→ 200) and ACK through the proxy; the ACK is awaited at the UAS. */
export async function call(env: FlowEnv, opts: { ack?: boolean; headers?: string[] } = {}): Promise<Call> {
  const uas = env.uas[0] as UdpPeer;
  const callId = `${randomToken()}@dlg`;
  const contact = `Contact: <sip:alice@127.0.0.1:${String(env.uac.port)}>`;
  env.uac.request({ method: 'INVITE', ruri: `sip:bob@127.0.0.1:${String(uas.port)}`, callId, fromTag: 'caller', headers: [contact, ...(opts.headers ?? [])] }, env.server.udpPort);
  const invite = await nextRequest(uas, 'INVITE');
  uas.send(answer(invite, 200, uas), env.server.udpPort);
  const ok = await nextReply(env.uac, (m) => m.status === 200 && m.callId === callId);
  const route = `Route: ${ok.getHeaders('record-route').join(', ')}`;
  const c: Call = {
    callId, invite, route,
    inDialog: (method, cseq) => {
      env.uac.request({
        method, ruri: `sip:bob@127.0.0.1:${String(uas.port)}`, callId, fromTag: 'caller', toTag: 'callee', cseq, headers: [route, contact],
      }, env.server.udpPort);
    },
  };
  if (opts.ack !== false) {
    c.inDialog('ACK', 1);
    await nextRequest(uas, 'ACK');
  }
  return c;
}

/** The UAS answers the in-dialog request it receives now with 200; the request is returned. */
export async function serve(env: FlowEnv, method: string): Promise<SipMessage> {
  const uas = env.uas[0] as UdpPeer;
  const req = await nextRequest(uas, method);
  uas.send(answer(req, 200, uas), env.server.udpPort);
  return req;
}

export interface DlgRow { state: number; 'call-id': string; h_entry: number; h_id: number; callee: { tag: string; contact: string }; caller: { tag: string; cseq: string }; variables: Record<string, string>[]; profiles: Record<string, string>[] }

export async function dialogs(env: FlowEnv): Promise<DlgRow[]> {
  return (await rpcResult(env.server.rt, 'dlg.list')) as DlgRow[];
}
