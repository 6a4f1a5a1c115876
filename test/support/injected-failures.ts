/**
 * SQL for a trigger function that raises 40001 on the first `failingAttempts`
 * attempts of every transaction. The attempt count lives in a sequence because
 * nextval() is the one thing a rolled-back attempt cannot undo; reset it with
 * `SELECT setval('attempt_counter', 1, false)` before each transaction.
 */
export function failFirstAttemptsSql(failingAttempts: number): string {
  return `
    CREATE SEQUENCE attempt_counter;
    CREATE FUNCTION fail_first_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('attempt_counter') <= ${failingAttempts} THEN
        RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001';
      END IF;
      RETURN NEW;
    END $$;`;
}
