// A minimal client for ClickHouse's HTTP interface: one POST per statement, the SQL in the
// `query` parameter and the data (if any) as the body, on a keep-alive connection pool.
// It owns the wire only: no SQL is written here.
//
// A statement either resolves to the response text or rejects with an Error that says
// whether the server could not be reached (or did not answer in time) or answered with
// an error, and which.

import http from 'node:http';

/**
 * @param {{url: string, timeoutMs?: number, settings?: Record<string, string|number>}} options
 *   url: e.g. http://127.0.0.1:8123; settings are sent with every statement.
 */
export function createClickHouseClient({ url, timeoutMs = 10000, settings = {} }) {
  const base = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  /** Runs one statement; `body` (string or Buffer) follows the SQL, e.g. rows to insert. */
  function run(sql, body = '', extra = {}) {
    const params = new URLSearchParams({ ...stringify(settings), ...stringify(extra), query: sql });
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: base.hostname, port: base.port || 8123, method: 'POST', agent,
        path: `/?${params}`, timeout: timeoutMs,
        headers: { 'Content-Length': Buffer.byteLength(body) },
      }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', (error) => reject(unreachable(error)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) resolve(text);
          else reject(answered(res.statusCode, text));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from ClickHouse in ${timeoutMs} ms`)));
      req.on('error', (error) => reject(unreachable(error)));
      req.end(body);
    });
  }

  /** Runs a SELECT ... FORMAT JSON and returns its rows as objects. */
  async function rows(sql, extra = {}) {
    const text = await run(`${sql} FORMAT JSON`, '', { output_format_json_quote_64bit_integers: 0, ...extra });
    return JSON.parse(text).data;
  }

  /** Inserts objects into `table` as JSONEachRow, one statement. */
  function insert(table, objects) {
    const body = objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
    return run(`INSERT INTO ${table} FORMAT JSONEachRow`, body);
  }

  /** Streams a SELECT ... FORMAT JSONEachRow: yields one object per row as they arrive. */
  async function* lines(sql) {
    const params = new URLSearchParams({ ...stringify(settings), output_format_json_quote_64bit_integers: '0',
      query: `${sql} FORMAT JSONEachRow` });
    const res = await new Promise((resolve, reject) => {
      http.request({ host: base.hostname, port: base.port || 8123, method: 'POST', agent, path: `/?${params}` },
        resolve).on('error', (error) => reject(unreachable(error))).end();
    });
    if (res.statusCode !== 200) {
      let text = '';
      for await (const chunk of res) text += chunk;
      throw answered(res.statusCode, text);
    }
    res.setEncoding('utf8'); // whole characters even when a chunk splits one
    let rest = '';
    for await (const chunk of res) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) if (line !== '') yield JSON.parse(line);
    }
  }

  return { run, rows, insert, lines, close: () => agent.destroy() };
}

function stringify(record) {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, String(v)]));
}

function unreachable(error) {
  return new Error(`ClickHouse unreachable: ${error.message}`);
}

function answered(status, text) {
  return new Error(`ClickHouse answered ${status}: ${text.trim().slice(0, 300)}`);
}
