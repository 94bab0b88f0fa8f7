// wire.mjs: reads what each tracker delivered to the recording collector. For every
// tracker it decodes the request bodies into the item ids reported as impressions and
// as viewable impressions (deduplicated the way each tracker's collector would: ours
// by (pv, s), the others by id since they send each once per page view) and sums the
// wire cost of all requests, CORS preflights included: request line and headers, and
// the body as sent (gzip for ours unless compress: false).

const decodeBase64Url = (s) => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function ours(requests, out) {
  const seen = new Set();
  for (const r of requests) {
    if (r.method !== 'POST' || r.path !== '/collect') continue;
    for (const line of r.body.split('\n')) {
      const batch = parseJson(line);
      if (!batch || !Array.isArray(batch.ev)) continue;
      for (const e of batch.ev) {
        const key = `${batch.pv} ${e.s}`;
        if (seen.has(key)) { out.duplicates++; continue; }
        seen.add(key);
        out.events++;
        if (e.e === 'imp') out.impressions.add(e.id);
        else if (e.e === 'view') out.views.add(e.id);
      }
    }
  }
}

function baseline(requests, out) {
  for (const r of requests) {
    if (r.method !== 'POST' || r.path !== '/baseline') continue;
    const batch = parseJson(r.body);
    for (const e of batch?.ev || []) {
      out.events++;
      const set = e.e === 'imp' ? out.impressions : e.e === 'view' ? out.views : null;
      if (!set) continue;
      if (set.has(e.id)) out.duplicates++;
      set.add(e.id);
    }
  }
}

function snowplow(requests, out) {
  for (const r of requests) {
    if (r.method !== 'POST') continue;
    const payload = parseJson(r.body);
    for (const ev of payload?.data || []) {
      out.events++;
      const ue = parseJson(ev.ue_pr || (ev.ue_px ? decodeBase64Url(ev.ue_px) : '')) || {};
      const co = parseJson(ev.co || (ev.cx ? decodeBase64Url(ev.cx) : '')) || {};
      const name = ue.data?.data?.element_name;
      const element = (co.data || []).find((c) => /\/element\/jsonschema/.test(c.schema) && c.data?.element_name === name);
      const id = element?.data?.attributes?.find((a) => a.attribute === 'gigId')?.value;
      if (!id || !/expose_element/.test(ue.data?.schema || '')) continue;
      const set = name === 'card_imp' ? out.impressions : name === 'card_view' ? out.views : null;
      if (!set) continue;
      if (set.has(id)) out.duplicates++;
      set.add(id);
    }
  }
}

// search-insights reports "view" events of ids (viewedObjectIDs): counted as impressions.
function searchInsights(requests, out) {
  for (const r of requests) {
    if (r.method !== 'POST' || r.path !== '/1/events') continue;
    for (const e of parseJson(r.body)?.events || []) {
      if (e.eventType !== 'view') continue;
      for (const id of e.objectIDs || []) {
        out.events++;
        if (out.impressions.has(id)) out.duplicates++;
        out.impressions.add(id);
      }
    }
  }
}

const DECODERS = { ours, 'ours-occlusion': ours, 'ours-plain': ours, baseline, snowplow, 'search-insights': searchInsights };

/** Decodes one session's requests for one tracker. */
export function readDelivered(tracker, requests) {
  const out = { impressions: new Set(), views: new Set(), duplicates: 0, events: 0 };
  DECODERS[tracker]?.(requests, out);
  const wireBytes = requests.reduce((s, r) => s + r.wireBytes, 0);
  const bodyBytes = requests.reduce((s, r) => s + r.bodyBytes, 0);
  const headBytes = requests.reduce((s, r) => s + r.headBytes, 0);
  return {
    impressions: out.impressions,
    views: out.views,
    duplicates: out.duplicates,
    events: out.events,
    requests: requests.length,
    preflights: requests.filter((r) => r.method === 'OPTIONS').length,
    wireBytes,
    bodyBytes,
    headBytes,
    gzipBodies: requests.filter((r) => r.gzip).length,
  };
}
