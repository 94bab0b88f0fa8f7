// inflate.js: how the collector reads a request body. The tracker sends each batch as
// gzip (RFC 1952) unless it runs with compress: false; a body is gzip exactly when it
// starts with the magic bytes 1f 8b (JSON text never does). A gzip body is inflated with
// a hard cap on the inflated size, so a decompression bomb costs at most that much
// memory and is refused (413); a truncated or corrupt one is refused too (400). The
// result is the JSON text, validated and stored exactly like a plain body.

import { gunzipSync } from 'node:zlib';

/** True when the body starts with the gzip magic bytes. */
export const isGzip = (bytes) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/**
 * The JSON bytes of a request body: inflated when it is gzip, as is otherwise.
 * @param {Buffer} bytes the raw body
 * @param {number} maxBytes the most the inflated body may hold
 * @returns {{bytes: Buffer, gzip: boolean} | {status: number, error: string}}
 */
export function decodeBody(bytes, maxBytes) {
  if (!isGzip(bytes)) return { bytes, gzip: false };
  try {
    return { bytes: gunzipSync(bytes, { maxOutputLength: maxBytes }), gzip: true };
  } catch (error) {
    if (error?.code === 'ERR_BUFFER_TOO_LARGE') return { status: 413, error: `gzip body inflates to more than ${maxBytes} bytes` };
    return { status: 400, error: `unreadable gzip body: ${error?.message || 'corrupt'}` };
  }
}
