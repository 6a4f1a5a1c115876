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

func expectAccepted(t *testing.T, statements []*statement) {
	t.Helper()
	if result := check(statements); len(result.Problems) != 0 {
		t.Fatalf("refused what CockroachDB and DESIGN §4 accept: %+v", result.Problems)
	}
}

func expectOneProblem(t *testing.T, statements []*statement, want string) {
	t.Helper()
	result := check(statements)
	if len(result.Problems) != 1 || !strings.Contains(result.Problems[0].Message, want) {
		t.Errorf("want one problem containing %q, got %+v", want, result.Problems)
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
	testOnly := check(statementsOf("test", "LOCK TABLE accounts IN EXCLUSIVE MODE"))
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
		"BEGIN; CREATE TABLE t (x INT8); INSERT INTO t VALUES (1); COMMIT": "DDL together with DML",
		"UPDATE accounts SET balance = 0 WHERE id IN (SELECT id FROM accounts WHERE id = $1 FOR UPDATE)":                    "a locking read nested",
		"WITH a AS (SELECT * FROM (SELECT id FROM accounts FOR UPDATE) AS s) UPDATE accounts SET balance = 0 WHERE id = $1": "a locking read nested",
	}
	for text, want := range refused {
		expectOneProblem(t, statementsOf("product", schema, text), want)
	}
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
