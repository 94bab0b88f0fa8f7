// batch-split.js: measuring and splitting batch bodies without changing their meaning.
//
// A body is opaque to the transport except here. A batch is the core's JSON
// {"v":1,"pv":...,"drop":n,"ev":[...]} (js/payload.schema.json), "ev" always last.
// Splitting keeps the header (every key but "ev", in the same order) and divides
// "ev"; only the first piece keeps the "drop" count (later pieces say "drop":0) so a
// collector that sums "drop" per page view counts each loss once. addDrop() raises the
// "drop" of a body (the transport moves the count of lost batches onto one it holds).
// Events are never cut or altered: every piece is a valid batch of whole events.

/** UTF-8 byte length of a JS string (a lone surrogate counts 3: TextEncoder writes U+FFFD). */
export const utf8Length = (text) => new TextEncoder().encode(text).length;

/**
 * Parses a batch body. Returns {header, events} (header = every key but "ev", in order)
 * or null when the body is not a JSON object with an "ev" array.
 */
export function parseBatch(body) {
  let header;
  try { header = JSON.parse(body); } catch { return null; }
  const events = header?.ev;
  if (!Array.isArray(events)) return null;
  delete header.ev;
  return { header, events };
}

/** A body's header (every key but "ev", in order) parsed alone ("ev" is the last key), or {}. */
export function headerOf(body) {
  try {
    const header = JSON.parse(`${body.slice(0, body.indexOf(',"ev":['))}}`);
    if (header.v) return header;
  } catch { /* not a batch */ }
  return {};
}

/**
 * The body with `count` added to its "drop" (the header is re-serialized in its key
 * order; the events are kept byte for byte), or null when it is not a batch.
 */
export function addDrop(body, count) {
  const header = headerOf(body);
  if (!header.v) return null;
  header.drop = (header.drop || 0) + count;
  return JSON.stringify(header).slice(0, -1) + body.slice(body.indexOf(',"ev":['));
}

/** Number of events in a body, or 0 when it is not a batch. */
export function countEvents(body) {
  const batch = parseBatch(body);
  return batch ? batch.events.length : 0;
}

function encode(header, eventTexts) {
  const head = JSON.stringify(header);
  const prefix = head === '{}' ? '{' : head.slice(0, -1) + ',';
  return `${prefix}"ev":[${eventTexts.join(',')}]}`;
}

function laterHeader(header) {
  return 'drop' in header ? { ...header, drop: 0 } : header;
}

/**
 * Splits `body` into bodies of at most `maxBytes` UTF-8 bytes each, greedily, in event
 * order. Returns {pieces: [{body, bytes, events}], oversize: [{body, bytes, events}]}:
 * an event that cannot fit alone under maxBytes goes to `oversize` as a one-event batch.
 * A body that already fits is returned unchanged; an unparseable body that does not fit
 * comes back as oversize.
 */
export function splitToFit(body, maxBytes) {
  const bytes = utf8Length(body);
  const batch = bytes > maxBytes ? parseBatch(body) : null;
  if (bytes <= maxBytes) return { pieces: [{ body, bytes, events: -1 }], oversize: [] };
  if (!batch) return { pieces: [], oversize: [{ body, bytes, events: -1 }] };
  const pieces = [];
  const oversize = [];
  let header = batch.header;
  let texts = [];
  let size = 0;
  let base = utf8Length(encode(header, []));
  const flush = () => {
    if (texts.length === 0) return;
    const text = encode(header, texts);
    pieces.push({ body: text, bytes: utf8Length(text), events: texts.length });
    header = laterHeader(header);
    base = utf8Length(encode(header, []));
    texts = [];
    size = 0;
  };
  for (const event of batch.events) {
    const text = JSON.stringify(event);
    const len = utf8Length(text);
    if (base + len > maxBytes) {
      flush();
      const alone = encode(header, [text]);
      oversize.push({ body: alone, bytes: utf8Length(alone), events: 1 });
      header = laterHeader(header);
      base = utf8Length(encode(header, []));
      continue;
    }
    if (base + size + len + (texts.length && 1) > maxBytes) flush();
    size += len + (texts.length && 1);
    texts.push(text);
  }
  flush();
  return { pieces, oversize };
}

/**
 * Divides a batch in two halves of its events (first half keeps "drop").
 * Returns [first, second] as {body, bytes, events}, or null when it has fewer than 2 events
 * or is not a batch.
 */
export function halveBatch(body) {
  const batch = parseBatch(body);
  if (!batch || batch.events.length < 2) return null;
  const mid = Math.ceil(batch.events.length / 2);
  const texts = batch.events.map((e) => JSON.stringify(e));
  const first = encode(batch.header, texts.slice(0, mid));
  const second = encode(laterHeader(batch.header), texts.slice(mid));
  return [
    { body: first, bytes: utf8Length(first), events: mid },
    { body: second, bytes: utf8Length(second), events: texts.length - mid },
  ];
}
