import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { poolConfigFromUrl } from '../packages/roachbank/src/db/pool-config.js';
import { describeTarget, redactConnectionString } from '../packages/roachbank/src/errors/connection-target.js';
import { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { type CliResult, runCli } from './support/run-cli.js';
import { adminUrl } from './support/test-database.js';

const caFile = new URL('./fixtures/tls/ca.crt', import.meta.url).pathname;
const password = 'Right-Horse-Battery-77';
const wrongPassword = 'Wrong-Staple-Secret-42';
let port: string;

function url(host: string, query: string, credentials = `rb_alice:${password}`): string {
  return `postgresql://${credentials}@${host}:${port}/roachbank${query ? `?${query}` : ''}`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return free;
}

function assertNoSecrets(result: CliResult, ...secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), `the output must not show ${secret}`);
  }
}

async function usesTls(connectionString: string): Promise<boolean> {
  const pool = createPool(connectionString, { max: 1 });
  try {
    const { rows } = await pool.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0].ssl;
  } finally {
    await pool.end();
  }
}

before(async () => {
  port = new URL(adminUrl()).port;
  const admin = createPool(adminUrl(), { max: 1 });
  await admin.query('DROP ROLE IF EXISTS rb_alice');
  await admin.query(`CREATE ROLE rb_alice LOGIN PASSWORD '${password}'`);
  await admin.end();
});
after(async () => {
  const admin = createPool(adminUrl(), { max: 1 });
  await admin.query('DROP ROLE IF EXISTS rb_alice');
  await admin.end();
});

describe('connection failures: one clear line, a non-zero exit, never the password', () => {
  test('a closed port', async () => {
    const result = await runCli(['db', 'status'], {
      DATABASE_URL: `postgresql://max:${wrongPassword}@127.0.0.1:${await freePort()}/bank`,
    });
    assert.equal(result.code, 5);
    assert.match(
      result.stderr,
      /^roachbank: DATABASE_UNAVAILABLE: cannot connect to max@127\.0\.0\.1:\d+\/bank: connection refused/,
    );
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    assertNoSecrets(result, wrongPassword);
  });

  test('a wrong password', async () => {
    const result = await runCli(['db', 'status'], {
      DATABASE_URL: url('127.0.0.1', 'sslmode=disable', `rb_alice:${wrongPassword}`),
    });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /authentication failed/);
    assertNoSecrets(result, wrongPassword);
  });

  test('the right password works, and status shows the URL redacted', async () => {
    const result = await runCli(['db', 'status'], { DATABASE_URL: url('127.0.0.1', 'sslmode=disable') });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /rb_alice:\*\*\*\*\*@127\.0\.0\.1/);
    assertNoSecrets(result, password);
  });

  test('a missing CA file', async () => {
    const result = await runCli(['db', 'status'], {
      DATABASE_URL: url('127.0.0.1', 'sslmode=verify-full&sslrootcert=/nonexistent/ca.crt'),
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /INVALID_ARGUMENT: sslrootcert file not found: \/nonexistent\/ca\.crt/);
    assertNoSecrets(result, password);
  });

  test('a certificate from an unknown CA', async () => {
    const result = await runCli(['db', 'status'], { DATABASE_URL: url('127.0.0.1', 'sslmode=verify-full') });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /TLS: the server's certificate is not signed by a trusted CA .*sslrootcert/);
    assertNoSecrets(result, password);
  });

  test('a host name the certificate does not name', async () => {
    const result = await runCli(['db', 'status'], {
      DATABASE_URL: url('127.0.0.2', `sslmode=verify-full&sslrootcert=${caFile}`),
    });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /TLS: host name mismatch/);
    assertNoSecrets(result, password);
  });

  test('malformed URLs and unknown sslmodes are INVALID_ARGUMENT, without echoing the input', async () => {
    for (const [bad, message] of [
      [`not a url ${wrongPassword}`, /not a valid URL/],
      [`mysql://max:${wrongPassword}@host/db`, /must start with postgresql:\/\//],
      [url('127.0.0.1', 'sslmode=sometimes', `max:${wrongPassword}`), /unknown sslmode "sometimes"/],
    ] as const) {
      const result = await runCli(['db', 'status'], { DATABASE_URL: bad });
      assert.equal(result.code, 2, bad);
      assert.match(result.stderr, message);
      assertNoSecrets(result, wrongPassword);
    }
  });

  test('--json reports errors as {"error":{"code","message"}} on stderr and nothing on stdout', async () => {
    const result = await runCli(['--json', 'db', 'status'], {
      DATABASE_URL: `postgresql://max:${wrongPassword}@127.0.0.1:${await freePort()}/bank`,
    });
    assert.equal(result.code, 5);
    assert.equal(result.stdout, '');
    const { error } = JSON.parse(result.stderr);
    assert.equal(error.code, 'DATABASE_UNAVAILABLE');
    assert.match(error.message, /connection refused/);
    assertNoSecrets(result, wrongPassword);
  });
});

describe('sslmode with libpq meanings', () => {
  test('verify-full with the CA file: TLS, certificate and host name checked', async () => {
    assert.equal(await usesTls(url('127.0.0.1', `sslmode=verify-full&sslrootcert=${caFile}`)), true);
  });
  test('verify-ca: the chain is checked, the host name is not', async () => {
    assert.equal(await usesTls(url('127.0.0.2', `sslmode=verify-ca&sslrootcert=${caFile}`)), true);
  });
  test('require: TLS without checking the certificate', async () => {
    assert.equal(await usesTls(url('127.0.0.1', 'sslmode=require')), true);
  });
  test('disable, and prefer (documented difference: no TLS attempt)', async () => {
    assert.equal(await usesTls(url('127.0.0.1', 'sslmode=disable')), false);
    assert.equal(await usesTls(url('127.0.0.1', 'sslmode=prefer')), false);
  });
  test('sslrootcert alone implies verify-full, like the CockroachDB Cloud connection strings', () => {
    const config = poolConfigFromUrl(url('db.example', `sslrootcert=${caFile}`));
    assert.equal(typeof config.ssl, 'object');
    assert.equal((config.ssl as { rejectUnauthorized: boolean }).rejectUnauthorized, true);
    assert.ok(!String(config.connectionString).includes('sslrootcert'), 'TLS parameters are ours, not the driver’s');
  });
  test('the cockroachdb:// scheme of the ORM tutorial is accepted', () => {
    assert.match(String(poolConfigFromUrl('cockroachdb://u:p@h:26257/db').connectionString), /^postgresql:\/\/u:p@h:26257\/db/);
  });
  test('errors are RoachbankError INVALID_ARGUMENT', () => {
    assert.throws(
      () => poolConfigFromUrl('http://x/y'),
      (e) => e instanceof RoachbankError && e.code === 'INVALID_ARGUMENT',
    );
  });
});

describe('redaction', () => {
  test('redactConnectionString hides passwords in the authority and in the query', () => {
    assert.equal(
      redactConnectionString('postgresql://max:s3cret@db:26257/bank?sslmode=verify-full'),
      'postgresql://max:*****@db:26257/bank?sslmode=verify-full',
    );
    assert.equal(redactConnectionString('postgresql://max@db/bank?password=s3cret'), 'postgresql://max@db/bank?password=*****');
    assert.equal(redactConnectionString('garbage s3cret'), '<unparsable connection string>');
  });
  test('describeTarget names user, host, port and database only', () => {
    assert.equal(describeTarget('postgresql://max:s3cret@db:26257/bank'), 'max@db:26257/bank');
    assert.equal(describeTarget('postgresql://db/bank'), 'db:5432/bank');
  });
});
