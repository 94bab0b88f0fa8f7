// batch-split.js: measuring and splitting batch bodies without changing their meaning.
//
// A body is opaque to the transport except here. A batch is the core's JSON
// {"v":1,"pv":...,"drop":n,"ev":[...]} (js/payload.schema.json), "ev" always last.
// Splitting keeps the header (every key but "ev", in the same order) and divides
// "ev"; only the first piece keeps the "drop" count (later pieces say "drop":0) so a
// collector that sums "drop" per page view counts each loss once. addDrop() raises the
// "drop" of a body (the transport moves the count of lost batches onto one it holds),
// saturating at the schema's bound (a uint32, like every number the core writes).
// Events are never cut or altered: every piece is a valid batch of whole events.

/** UTF-8 byte length of a JS string (a lone surrogate counts 3: TextEncoder writes U+FFFD). */
export const utf8Length = (text) => new TextEncoder().encode(text).length;

/**
 * Parses a batch body. Returns {_header, _events} (header = every key but "ev", in order)
 * or null when the body is not a JSON object with an "ev" array.
 */
export function parseBatch(body) {
  try {
    const header = JSON.parse(body);
    const events = header.ev;
    if (Array.isArray(events)) { delete header.ev; return { _header: header, _events: events }; }
  } catch { /* not a batch */ }
  return null;
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
  header.drop = Math.min(0xFFFFFFFF, (header.drop || 0) + count); // saturates as the core's count does
  return JSON.stringify(header).slice(0, -1) + body.slice(body.indexOf(',"ev":['));
}

/** Number of events in a body, or 0 when it is not a batch. */
export const countEvents = (body) => parseBatch(body)?._events.length || 0;

function encode(header, eventTexts) {
  const head = JSON.stringify(header);
  return `${head === '{}' ? '{' : head.slice(0, -1) + ','}"ev":[${eventTexts}]}`;
}

const laterHeader = (header) => ('drop' in header ? { ...header, drop: 0 } : header);

/** A piece {_body, _bytes, _events} of the given header and event texts. */
function piece(header, texts) {
  const body = encode(header, texts);
  return { _body: body, _bytes: utf8Length(body), _events: texts.length };
}

/**
 * Splits `body` into bodies of at most `maxBytes` UTF-8 bytes each, greedily, in event
 * order. Returns {_pieces: [piece], _oversize: [piece]} (a piece is {_body, _bytes, _events}):
 * an event that cannot fit alone under maxBytes goes to `oversize` as a one-event batch.
 * A body that already fits is returned unchanged (events -1: not counted); an
 * unparseable body that does not fit comes back as oversize.
 */
export function splitToFit(body, maxBytes) {
  const bytes = utf8Length(body);
  const pieces = [];
  const oversize = [];
  const batch = bytes > maxBytes && parseBatch(body);
  if (!batch) (bytes > maxBytes ? oversize : pieces).push({ _body: body, _bytes: bytes, _events: -1 });
  else {
    let header = batch._header;
    let texts = [];
    let size = 0; // bytes of the texts joined with commas
    const flush = (list, to) => {
      if (list.length) { to.push(piece(header, list)); header = laterHeader(header); }
      texts = []; size = 0;
    };
    for (const event of batch._events) {
      const text = JSON.stringify(event);
      const len = utf8Length(text);
      const base = utf8Length(encode(header, []));
      if (base + len > maxBytes) { flush(texts, pieces); flush([text], oversize); continue; }
      if (base + size + len + (texts.length && 1) > maxBytes) flush(texts, pieces);
      size += len + (texts.length && 1);
      texts.push(text);
    }
    flush(texts, pieces);
  }
  return { _pieces: pieces, _oversize: oversize };
}

/**
 * Divides a batch in two halves of its events (first half keeps "drop").
 * Returns [first, second] as pieces, or null when it has fewer than 2 events
 * or is not a batch.
 */
export function halveBatch(body) {
  const batch = parseBatch(body);
  const texts = batch ? batch._events.map((e) => JSON.stringify(e)) : [];
  const mid = Math.ceil(texts.length / 2);
  return texts[1] ? [piece(batch._header, texts.slice(0, mid)), piece(laterHeader(batch._header), texts.slice(mid))] : null;
}
