// Protocol v1 frames (docs/protocol.md): header {version, type, flags, seq u16, len u16} | payload | CRC-32
// over both, COBS-encoded and ended by 0x00. FrameDecoder splits a byte stream into frames and
// resynchronises on the next 0x00 after garbage, a damaged frame or an overlong one.
import { cobsDecode, cobsEncode, cobsMaxEncoded } from './cobs.js';
import { crc32 } from './crc32.js';

export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 7;
export const CRC_BYTES = 4;
/** Set on the last frame of the board's answer to a request. */
export const FLAG_FINAL = 0x01;
/** Payload every board accepts; the board's own limit comes in INFO.maxPayload. */
export const MIN_MAX_PAYLOAD = 64;

export interface Frame {
  readonly version: number;
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly payload: Uint8Array;
}

/** The body (header, payload, CRC) before COBS. */
export function encodeBody(f: Frame): Uint8Array {
  if (f.payload.length > 0xffff) throw new Error(`frame payload of ${f.payload.length} bytes exceeds 65535`);
  const body = new Uint8Array(HEADER_BYTES + f.payload.length + CRC_BYTES);
  const v = new DataView(body.buffer);
  v.setUint8(0, f.version);
  v.setUint8(1, f.type);
  v.setUint8(2, f.flags);
  v.setUint16(3, f.seq, true);
  v.setUint16(5, f.payload.length, true);
  body.set(f.payload, HEADER_BYTES);
  v.setUint32(HEADER_BYTES + f.payload.length, crc32(body.subarray(0, HEADER_BYTES + f.payload.length)), true);
  return body;
}

/** Wire bytes of a frame: COBS(body) followed by the 0x00 delimiter. */
export function encodeFrame(f: Frame): Uint8Array {
  const enc = cobsEncode(encodeBody(f));
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

export type BodyResult =
  | { readonly ok: true; readonly frame: Frame }
  /** header is set when the header was intact (length consistent) but the CRC failed. */
  | { readonly ok: false; readonly reason: 'cobs' | 'short' | 'length' | 'crc'; readonly header?: Omit<Frame, 'payload'> };

/** Checks and splits one decoded body. */
export function decodeBody(body: Uint8Array): BodyResult {
  if (body.length < HEADER_BYTES + CRC_BYTES) return { ok: false, reason: 'short' };
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const len = v.getUint16(5, true);
  if (len + HEADER_BYTES + CRC_BYTES !== body.length) return { ok: false, reason: 'length' };
  const header = { version: body[0], type: body[1], flags: body[2], seq: v.getUint16(3, true) };
  const crc = v.getUint32(HEADER_BYTES + len, true);
  if (crc32(body.subarray(0, HEADER_BYTES + len)) !== crc) return { ok: false, reason: 'crc', header };
  return { ok: true, frame: { ...header, payload: body.slice(HEADER_BYTES, HEADER_BYTES + len) } };
}

/** Stream decoder: push() any bytes; onResult gets every frame or rejected frame in order. */
export class FrameDecoder {
  private buf: Uint8Array;
  private n = 0;
  private overflow = false;
  /** Frames rejected so far (bad COBS, length, CRC, overlong). */
  dropped = 0;

  constructor(
    private readonly onResult: (r: BodyResult) => void,
    maxPayload = 65535,
  ) {
    this.buf = new Uint8Array(cobsMaxEncoded(HEADER_BYTES + maxPayload + CRC_BYTES));
  }

  push(data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const b = data[i];
      if (b !== 0) {
        if (this.n < this.buf.length) this.buf[this.n++] = b;
        else this.overflow = true;
        continue;
      }
      // 0x00: end of a frame (empty frames are padding between frames).
      const n = this.n;
      const overflow = this.overflow;
      this.n = 0;
      this.overflow = false;
      if (overflow) {
        this.dropped++;
        this.onResult({ ok: false, reason: 'length' });
        continue;
      }
      if (n === 0) continue;
      const body = cobsDecode(this.buf.subarray(0, n));
      const r: BodyResult = body ? decodeBody(body) : { ok: false, reason: 'cobs' };
      if (!r.ok) this.dropped++;
      this.onResult(r);
    }
  }

  /** Forgets a partly received frame. */
  reset(): void {
    this.n = 0;
    this.overflow = false;
  }
}
