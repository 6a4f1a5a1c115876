/**
 * Waits until no schema change is running on the cluster, so a migration's
 * `CREATE INDEX IF NOT EXISTS` is never answered "exists" by an index whose
 * backfill is still going (a job outlives the session that started it: a
 * holder that died leaves its job running). CockroachDB only; docs: SHOW JOBS
 * ("SHOW JOBS WHEN COMPLETE … blocks until the jobs finish"), and the job types
 * 'SCHEMA CHANGE' and 'NEW SCHEMA CHANGE' (the declarative schema changer).
 * The parser check covers this text (test/run-tests.ts records it).
 */
export const cockroachSchemaJobsDoneSql = `SHOW JOBS WHEN COMPLETE (
  SELECT job_id FROM [SHOW JOBS]
  WHERE job_type IN ('SCHEMA CHANGE', 'NEW SCHEMA CHANGE') AND status IN ('pending', 'running', 'reverting')
)`;
