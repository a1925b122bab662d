/** Call a runtime's control RPC over real HTTP, with the same client `kemihost rpc` uses. */
import { callRpc, type RpcReply } from '../../host/rpc/client.js';
import type { Runtime } from '../../host/runtime.js';

export function rpcAddress(rt: Runtime): string {
  const a = rt.rpcAddress;
  if (a === null) throw new Error('the runtime has no control RPC listener (config rpc.listen)');
  return a;
}

export function rpc(rt: Runtime | string, method: string, params: readonly unknown[] = [], token: string | null = null): Promise<RpcReply> {
  return callRpc({ address: typeof rt === 'string' ? rt : rpcAddress(rt), token, timeoutMs: 10_000 }, method, params);
}

/** The result of a call that must succeed. */
export async function rpcResult(rt: Runtime | string, method: string, params: readonly unknown[] = []): Promise<unknown> {
  const r = await rpc(rt, method, params);
  if (r.error !== undefined) throw new Error(`${method}: error ${String(r.error.code)}: ${r.error.message}`);
  return r.result;
}
