// npm bencode 4 ships no types; only `encode` is used (host/rtpengine/bdecode.ts decodes).
declare module 'bencode' {
  type Encodable = string | number | Uint8Array | readonly Encodable[] | { readonly [key: string]: Encodable | undefined };
  const bencode: {
    encode(value: Encodable): Uint8Array;
  };
  export default bencode;
}
