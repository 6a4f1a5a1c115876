// A CockroachDB double on the wire, in front of PostgreSQL: it answers
// `SELECT version()` as CockroachDB, so the retry core speaks the savepoint
// protocol, and it gives RELEASE SAVEPOINT cockroach_restart the meaning
// CockroachDB gives it: the commit (sent to PostgreSQL as COMMIT; the client is
// told RELEASE and believes it is still in the transaction, as on CockroachDB).
// Each fault applies to the next transaction's RELEASE, or to the COMMIT after it.
import { startWireProxy, type Verdict, type WireProxy } from './wire-proxy.js';

export type CommitFault =
  /** RELEASE commits, then fails with XX000: the writes are in, the client sees an error. */
  | 'error-at-release'
  /** RELEASE commits, then fails with 57014 (a statement timeout). */
  | 'timeout-at-release'
  /** RELEASE is refused with 40001 and commits nothing: restart at the savepoint. */
  | '40001-at-release'
  /** RELEASE commits and succeeds; the COMMIT after it fails with XX000. */
  | 'error-at-commit'
  /** RELEASE commits and succeeds; the connection is cut before the COMMIT after it. */
  | 'cut-after-release';

export interface CockroachDouble {
  urlThrough(url: string): string;
  /** The fault for the next RELEASE (or the COMMIT after it); cleared once used. */
  setFault(fault: CommitFault | undefined): void;
  /** RELEASE SAVEPOINT cockroach_restart messages seen. */
  readonly releases: number;
  readonly proxy: WireProxy;
  close(): Promise<void>;
}

export const cockroachVersion =
  'CockroachDB CCL v25.2.0 (x86_64-pc-linux-gnu, built 2025/05/05 00:00:00, go1.23.7 X:nocoverageredesign)';
// roachbank's own question (serverVersionSql); a layer's own version check (Knex parses
// PostgreSQL's answer) is left to the server.
const isVersionQuery = /^\s*SELECT version\(\) AS version\s*$/;
const isRelease = /^\s*release\s+savepoint\s+cockroach_restart\s*;?\s*$/i;
const isCommit = /^\s*commit\s*;?\s*$/i;

export async function startCockroachDouble(upstreamPort: number): Promise<CockroachDouble> {
  const proxy = await startWireProxy(upstreamPort);
  let fault: CommitFault | undefined;
  let afterRelease: CommitFault | undefined;
  let releases = 0;
  proxy.setPolicy((m): Verdict => {
    const sql = m.type === 'Q' ? m.sql : m.type === 'P' ? m.statement : undefined;
    if (sql === undefined) return 'forward';
    if (isVersionQuery.test(sql)) return { sql: `SELECT '${cockroachVersion}' AS version` };
    if (isRelease.test(sql)) {
      releases++;
      const now = fault;
      fault = undefined;
      afterRelease = now === 'error-at-commit' || now === 'cut-after-release' ? now : undefined;
      if (now === '40001-at-release') {
        // Nothing commits; the transaction stays open at the savepoint, as CockroachDB's does.
        return {
          sql: 'SELECT 1',
          answer: {
            error: { code: '40001', message: 'restart transaction: TransactionRetryWithProtoRefreshError' },
            status: 'E',
          },
        };
      }
      if (now === 'error-at-release') {
        return { sql: 'COMMIT', answer: { error: { code: 'XX000', message: 'internal error at RELEASE' }, status: 'E' } };
      }
      if (now === 'timeout-at-release') {
        return {
          sql: 'COMMIT',
          answer: { error: { code: '57014', message: 'query execution canceled due to statement timeout' }, status: 'E' },
        };
      }
      return { sql: 'COMMIT', answer: { complete: 'RELEASE', status: 'T' } };
    }
    if (isCommit.test(sql) && afterRelease !== undefined) {
      const now = afterRelease;
      afterRelease = undefined;
      if (now === 'cut-after-release') return 'cut-before';
      return { sql: 'SELECT 1', answer: { error: { code: 'XX000', message: 'internal error at COMMIT' }, status: 'I' } };
    }
    return 'forward';
  });
  return {
    urlThrough: (url) => proxy.urlThrough(url),
    setFault(next) {
      fault = next;
    },
    get releases() {
      return releases;
    },
    proxy,
    close: () => proxy.close(),
  };
}
