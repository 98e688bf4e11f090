/**
 * Request bodies gzipped where the platform has CompressionStream (browsers, Node 18+);
 * React Native has none and sends them plain. On 2G the uplink is the narrow side: a
 * `_revs_diff` or `_bulk_docs` body shrinks to a third.
 */
const MIN_BYTES = 1024;

export interface Body {
  data: Uint8Array | string;
  gzip: boolean;
}

export async function encodeBody(json: string): Promise<Body> {
  const CS = (globalThis as { CompressionStream?: typeof CompressionStream }).CompressionStream;
  if (!CS || json.length < MIN_BYTES) return { data: json, gzip: false };
  const stream = new Blob([json]).stream().pipeThrough(new CS('gzip'));
  return { data: new Uint8Array(await new Response(stream).arrayBuffer()), gzip: true };
}
