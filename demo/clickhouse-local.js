// Starts a private ClickHouse server (Debian's `clickhouse-server`, or CLICKHOUSE_SERVER)
// on 127.0.0.1 from a config written into a folder of its own: the data, logs and config
// all live there, only the HTTP port is opened, and the default user has no password and
// accepts 127.0.0.1 only. Used by `make demo STORE=clickhouse`, the ClickHouse tests and
// the store benchmark. It owns the server process and nothing else.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

const SERVER_BINARY = process.env.CLICKHOUSE_SERVER ?? '/usr/sbin/clickhouse-server';

function configXml(dir, port) {
  const data = join(dir, 'data') + '/';
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>error</level><log>${join(dir, 'server.log')}</log><errorlog>${join(dir, 'server.err.log')}</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${port}</http_port>
  <path>${data}</path>
  <tmp_path>${data}tmp/</tmp_path>
  <user_files_path>${data}user_files/</user_files_path>
  <format_schema_path>${data}format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`;

/** A port that was free a moment ago (ClickHouse cannot report the port it bound for 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** Polls /ping until it answers Ok. or the deadline passes. */
async function waitForPing(url, child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`clickhouse-server exited with ${child.exitCode}`);
    try {
      const res = await fetch(url + '/ping');
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`clickhouse-server did not answer ${url}/ping within ${deadlineMs} ms`);
}

/**
 * Starts a server whose files live in `dir` (created if needed; an existing data folder
 * is reused, so a stop and start keeps the tables). Resolves to
 * {url, port, dir, stop(), kill(), start()}: stop() waits for a clean exit, kill() sends
 * SIGKILL, start() starts it again on the same port.
 * @param {{dir: string, port?: number, startTimeoutMs?: number}} options
 */
export async function startClickHouse({ dir, port, startTimeoutMs = 30000 }) {
  if (!existsSync(SERVER_BINARY)) {
    throw new Error(`${SERVER_BINARY} not found: apt-get install -y clickhouse-server (or make deps)`);
  }
  mkdirSync(dir, { recursive: true });
  const chosenPort = port ?? await freePort();
  writeFileSync(join(dir, 'config.xml'), configXml(dir, chosenPort));
  writeFileSync(join(dir, 'users.xml'), USERS_XML);
  const url = `http://127.0.0.1:${chosenPort}`;
  let child = null;

  async function start() {
    child = spawn(SERVER_BINARY, [`--config-file=${join(dir, 'config.xml')}`], {
      cwd: dir, stdio: 'ignore',
    });
    await waitForPing(url, child, startTimeoutMs);
  }

  function signal(name) {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      running.once('exit', () => resolve());
      running.kill(name);
    });
  }

  // A server must not outlive the process that started it (an exit on an error included).
  process.once('exit', () => child?.kill('SIGKILL'));
  await start();
  return {
    url, port: chosenPort, dir, start,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    pid: () => child?.pid,
  };
}
