package main

import (
	"strings"
	"testing"
)

func statementsOf(sender string, texts ...string) []*statement {
	var out []*statement
	for _, text := range texts {
		out = append(out, &statement{text: text, senders: map[string]bool{sender: true}})
	}
	return out
}

// testLine is a release line made for the tests, so they do not change with the real lists.
var testLine = releaseLine{
	name: "vTest",
	functions: map[string][]arity{
		"div": {{2, false}}, "count_rows": {{0, false}}, "now": {{0, false}}, "unnest": {{1, false}, {2, true}},
		"current_setting": {{1, false}, {2, false}}, "set_config": {{3, false}}, "gen_random_uuid": {{0, false}},
		"pg_advisory_xact_lock": {{1, false}},
	},
	variables: map[string]bool{"statement_timeout": true, "default_transaction_isolation": true, "application_name": true},
}

func checkWithTestLine(statements []*statement) summary {
	return check(statements, nil, []releaseLine{testLine})
}

func expectAccepted(t *testing.T, statements []*statement) {
	t.Helper()
	if result := checkWithTestLine(statements); len(result.Problems) != 0 {
		t.Fatalf("refused what CockroachDB and DESIGN §4 accept: %+v", result.Problems)
	}
}

func expectOneProblem(t *testing.T, statements []*statement, want string) {
	t.Helper()
	result := checkWithTestLine(statements)
	if len(result.Problems) != 1 || !strings.Contains(result.Problems[0].Message, want) {
		t.Errorf("want one problem containing %q, got %+v", want, result.Problems)
	}
}

// expectEachRefused: each text, sent by the product after the schema, is one problem with that message.
func expectEachRefused(t *testing.T, schema string, refused map[string]string) {
	t.Helper()
	for text, want := range refused {
		expectOneProblem(t, statementsOf("product", schema, text), want)
	}
}

// The check fails on what CockroachDB refuses, and only on that.
func TestCheck(t *testing.T) {
	accepted := statementsOf("product",
		"CREATE TABLE IF NOT EXISTS accounts (id UUID PRIMARY KEY, balance INT8)",
		"SELECT id FROM accounts WHERE id = ANY($1::UUID[]) AND balance >= $2::INT8",
		"SELECT balance::TEXT, '00000000-0000-4000-8000-000000000000'::UUID, NULL::UUID FROM accounts",
		"BEGIN ISOLATION LEVEL READ COMMITTED; UPDATE accounts SET balance = balance - 1 WHERE id = $1; COMMIT",
	)
	expectAccepted(t, accepted)

	refused := map[string]string{
		"LOCK TABLE accounts IN EXCLUSIVE MODE":            "syntax error",
		"VACUUM accounts":                                  "syntax error",
		"SELECT '1'::mood":                                 `type "mood" does not exist`,
		"SELECT 1::UUID":                                   "no cast from INT8 to UUID",
		"SELECT '1'::money":                                "unimplemented",
		"CREATE TABLE t (balance INT8); SELECT true::UUID": "no cast from BOOL to UUID",
		"SELECT balance::UUID FROM accounts":               "no cast from INT8 to UUID",
	}
	for text, want := range refused {
		expectOneProblem(t, append(statementsOf("seed", text), statementsOf("product", "CREATE TABLE accounts (balance INT8)")...), want)
	}

	// A test's own SQL is left out: PostgreSQL-only SQL there is not a finding.
	testOnly := checkWithTestLine(statementsOf("test", "LOCK TABLE accounts IN EXCLUSIVE MODE"))
	if len(testOnly.Problems) != 0 || testOnly.TestOnly != 1 {
		t.Fatalf("a test-only statement was checked: %+v", testOnly)
	}
}

// The rules of DESIGN §4 that the syntax tree shows.
func TestDesignRules(t *testing.T) {
	schema := "CREATE TABLE IF NOT EXISTS accounts (id UUID PRIMARY KEY, balance INT8)"
	refused := map[string]string{
		"WITH a AS (UPDATE accounts SET balance = 0 WHERE id = $1 RETURNING id) UPDATE accounts SET balance = 1 WHERE id = $2":   "accounts is modified 2 times",
		"WITH a AS (DELETE FROM accounts WHERE id = $1 RETURNING id) INSERT INTO accounts VALUES ($2, 0) ON CONFLICT DO NOTHING": "accounts is modified 2 times",
		"SELECT balance / 2 FROM accounts":                                 "integer / integer",
		"SELECT $1::INT8 / 2":                                              "integer / integer",
		"CREATE SEQUENCE ids":                                              "a sequence",
		"CREATE TABLE t (id SERIAL PRIMARY KEY)":                           "SERIAL column id",
		"SELECT pg_advisory_xact_lock(1)":                                  "advisory locks",
		"UPSERT INTO accounts VALUES ($1, 0)":                              "UPSERT",
		"BEGIN; CREATE TABLE t (x INT8); INSERT INTO t VALUES (1); COMMIT": "DDL inside an explicit transaction",
		"UPDATE accounts SET balance = 0 WHERE id IN (SELECT id FROM accounts WHERE id = $1 FOR UPDATE)":                    "a locking read nested",
		"WITH a AS (SELECT * FROM (SELECT id FROM accounts FOR UPDATE) AS s) UPDATE accounts SET balance = 0 WHERE id = $1": "a locking read nested",
	}
	expectEachRefused(t, schema, refused)
	accepted := statementsOf("product", schema,
		"WITH a AS (INSERT INTO accounts VALUES ($1, 0)) INSERT INTO accounts VALUES ($2, 0)",
		"SELECT div(balance, 2), balance::DECIMAL / 2 FROM accounts",
		"INSERT INTO accounts VALUES ($1, 0) ON CONFLICT (id) DO UPDATE SET balance = excluded.balance",
		"BEGIN; UPDATE accounts SET balance = 0 WHERE id = $1; COMMIT",
		"SELECT id FROM accounts WHERE id = $1 FOR UPDATE",
		"WITH locked AS (SELECT id FROM accounts WHERE id = $1 ORDER BY id FOR UPDATE) UPDATE accounts SET balance = 0 WHERE id IN (SELECT id FROM locked)",
	)
	expectAccepted(t, accepted)
}

// Functions, session variables and structure: each rule refuses its bad twin.
func TestReferees(t *testing.T) {
	schema := "CREATE TABLE IF NOT EXISTS roachbank.t (id UUID PRIMARY KEY, at TIMESTAMPTZ NOT NULL, ref UUID, n INT8 NOT NULL)"
	refused := map[string]string{
		"SELECT txid_current()":                                     "txid_current(): not a function of CockroachDB vTest",
		"SELECT div(1)":                                             "div() with 1 arguments: CockroachDB vTest has it with 2",
		"SELECT count(*), count(id) FROM roachbank.t":               "count(): not a function of CockroachDB vTest",
		"SET client_connection_check_interval = 1000":               "session variable client_connection_check_interval",
		"SHOW lock_timeout":                                         "session variable lock_timeout",
		"SELECT current_setting('enable_seqscan')":                  "session variable enable_seqscan",
		"SELECT set_config('work_mem', '1MB', false)":               "session variable work_mem",
		"CREATE INDEX t_at_idx ON roachbank.t (at, id)":             "led by the timestamp at",
		"CREATE INDEX t_ref_idx ON roachbank.t (ref, id)":           "led by the nullable ref",
		"CREATE INDEX t_ref_n_idx ON roachbank.t (ref) WHERE n > 0": "led by the nullable ref",
		"BEGIN; CREATE INDEX t_n_idx ON roachbank.t (n); COMMIT":    "DDL inside an explicit transaction",
	}
	expectEachRefused(t, schema, refused)
	// Sent alone, but on a connection inside BEGIN (the recorder says so).
	inside := &statement{text: "CREATE INDEX t_n_idx ON roachbank.t (n)", senders: map[string]bool{"seed": true}, inTransaction: true}
	expectOneProblem(t, append(statementsOf("product", schema), inside), "DDL inside an explicit transaction")
	// A startup option is a session variable too.
	bad := checkWithTestLine(append(statementsOf("product", schema), nil...))
	if len(bad.Problems) != 0 {
		t.Fatalf("the schema alone was refused: %+v", bad.Problems)
	}
	startupProblems := check(nil, []startup{{`-c default_transaction_isolation=read\ committed -c work_mem=1MB`, "product"}}, []releaseLine{testLine})
	if len(startupProblems.Problems) != 1 || !strings.Contains(startupProblems.Problems[0].Message, "work_mem") {
		t.Errorf("want one problem naming work_mem, got %+v", startupProblems.Problems)
	}
	if startupProblems.ClusterDependent["READ COMMITTED: only where sql.txn.read_committed_isolation.enabled is on; SERIALIZABLE elsewhere (startup option)"] != 1 {
		t.Errorf("READ COMMITTED in a startup option was not flagged: %+v", startupProblems.ClusterDependent)
	}

	accepted := statementsOf("product", schema,
		"SELECT count(*), now(), gen_random_uuid() FROM roachbank.t",
		"SELECT * FROM unnest($1::UUID[], $2::INT8[]) WITH ORDINALITY AS u (id, n, ord)",
		"SET statement_timeout = 0",
		"SELECT current_setting('default_transaction_isolation')",
		"CREATE INDEX t_at_sharded_idx ON roachbank.t (at, id) USING HASH",
		"CREATE INDEX t_ref_idx ON roachbank.t (ref, id) WHERE ref IS NOT NULL",
		"CREATE INDEX t_n_idx ON roachbank.t (n)",
		"CREATE INDEX t_old_idx ON roachbank.t (at)",
		"DROP INDEX roachbank.t@t_old_idx",
		"BEGIN ISOLATION LEVEL READ COMMITTED; UPDATE roachbank.t SET n = 1 WHERE id = $1; COMMIT",
	)
	result := checkWithTestLine(accepted)
	if len(result.Problems) != 0 {
		t.Fatalf("refused what CockroachDB accepts: %+v", result.Problems)
	}
	if result.ClusterDependent["READ COMMITTED: only where sql.txn.read_committed_isolation.enabled is on; SERIALIZABLE elsewhere"] != 1 {
		t.Errorf("BEGIN ISOLATION LEVEL READ COMMITTED was not flagged: %+v", result.ClusterDependent)
	}
	// What only PostgreSQL receives is not held against CockroachDB.
	pgOnly := &statement{text: "SET client_connection_check_interval = 1000", senders: map[string]bool{"product": true}, postgresqlOnly: true}
	if r := checkWithTestLine([]*statement{pgOnly}); len(r.Problems) != 0 || r.PostgresqlOnly != 1 {
		t.Errorf("a PostgreSQL-only statement was checked: %+v", r)
	}
}

// The committed lists load, one pair per release line.
func TestReleaseLines(t *testing.T) {
	lines, err := releaseLines()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		if len(line.functions) == 0 || len(line.variables) == 0 {
			t.Errorf("release line %s has an empty list", line.name)
		}
	}
}
