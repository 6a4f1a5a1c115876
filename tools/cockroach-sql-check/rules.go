package main

// The rules of DESIGN §4 that a statement's syntax tree shows, checked here
// rather than by hand. They are CockroachDB's semantics, not its grammar: each
// parses, and each would fail or misbehave on a cluster.

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treebin"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// designRules returns what breaks DESIGN §4 in one SQL text (one or more statements).
func designRules(stmts []tree.Statement, columns map[string]*types.T) []string {
	var broken []string
	for _, stmt := range stmts {
		broken = append(broken, sameTableTwice(stmt)...)
		broken = append(broken, integerDivision(stmt, columns)...)
		broken = append(broken, forbiddenFeatures(stmt)...)
		broken = append(broken, nestedLocking(stmt)...)
	}
	return broken
}

func isBegin(stmt tree.Statement) bool {
	_, ok := stmt.(*tree.BeginTransaction)
	return ok
}

// sameTableTwice: CockroachDB refuses a statement with two UPDATE, DELETE or
// INSERT … ON CONFLICT parts on one table (for example two data-modifying
// CTEs): "multiple modification subqueries of the same table are not
// supported" (cockroachdb/cockroach#71595; plain INSERTs are allowed).
func sameTableTwice(stmt tree.Statement) []string {
	count := map[string]int{}
	for _, n := range nodesIn[*tree.Insert](stmt) {
		if n.OnConflict != nil {
			count[tableName(n.Table)]++
		}
	}
	for _, n := range nodesIn[*tree.Update](stmt) {
		count[tableName(n.Table)]++
	}
	for _, n := range nodesIn[*tree.Delete](stmt) {
		count[tableName(n.Table)]++
	}
	var broken []string
	for table, n := range count {
		if n > 1 {
			broken = append(broken, fmt.Sprintf("%s is modified %d times in one statement; CockroachDB refuses that (DESIGN §4)", table, n))
		}
	}
	return broken
}

// tableName is a modified table's name without its alias, lower-cased as SQL folds it.
func tableName(expr tree.TableExpr) string {
	if aliased, ok := expr.(*tree.AliasedTableExpr); ok {
		expr = aliased.Expr
	}
	name := strings.ToLower(tree.AsString(expr))
	if !strings.Contains(name, ".") {
		name = "public." + name
	}
	return strings.ReplaceAll(name, `"`, "")
}

// integerDivision: `/` of two integers is DECIMAL in CockroachDB and an
// integer (truncated) in PostgreSQL; found where both operands' types are
// known without a cluster (constants, casts, columns of recorded tables).
func integerDivision(stmt tree.Statement, columns map[string]*types.T) []string {
	var broken []string
	for _, e := range nodesIn[*tree.BinaryExpr](stmt) {
		if e.Operator.Symbol != treebin.Div {
			continue
		}
		left, _ := sourceType(e.Left, columns)
		right, _ := sourceType(e.Right, columns)
		if left != nil && right != nil && left.Family() == types.IntFamily && right.Family() == types.IntFamily {
			broken = append(broken, fmt.Sprintf("integer / integer (%s) is DECIMAL in CockroachDB: use div() or compute in TypeScript (DESIGN §4)", tree.AsString(e)))
		}
	}
	return broken
}

// forbiddenFeatures: what DESIGN §4 rules out even where CockroachDB's
// grammar accepts it.
func forbiddenFeatures(stmt tree.Statement) []string {
	var broken []string
	if _, ok := stmt.(*tree.CreateSequence); ok {
		broken = append(broken, "a sequence: use UUID keys, a sequence is one hot range in CockroachDB (DESIGN §4)")
	}
	for _, def := range nodesIn[*tree.ColumnTableDef](stmt) {
		if def.IsSerial {
			broken = append(broken, fmt.Sprintf("SERIAL column %s: use UUID keys (DESIGN §4)", def.Name))
		}
	}
	for _, call := range nodesIn[*tree.FuncExpr](stmt) {
		name := functionName(call)
		if strings.Contains(name, "advisory") {
			broken = append(broken, fmt.Sprintf("%s: advisory locks do not lock anything in CockroachDB (DESIGN §4)", name))
		}
	}
	if insert, ok := stmt.(*tree.Insert); ok && insert.OnConflict != nil && insert.OnConflict.IsUpsertAlias() {
		broken = append(broken, "UPSERT is CockroachDB's alone: use INSERT … ON CONFLICT (DESIGN §4)")
	}
	return broken
}

// nestedLocking: a locking read (FOR UPDATE, FOR SHARE) only at the top of a
// statement or as a top-level CTE of it, as every movement statement has it
// (the `locked` CTE). There, PostgreSQL and CockroachDB lock the same rows before
// the rest of the statement reads them (CockroachDB docs: SELECT FOR UPDATE);
// nested in a subquery or a CTE's own subquery, the optimizer may run it after,
// or more than once, and under READ COMMITTED the rows checked need not be the
// rows locked.
func nestedLocking(stmt tree.Statement) []string {
	allowed := map[*tree.Select]bool{}
	var with *tree.With
	switch s := stmt.(type) {
	case *tree.Select:
		allowed[s] = true
		with = s.With
	case *tree.Insert:
		with = s.With
	case *tree.Update:
		with = s.With
	case *tree.Delete:
		with = s.With
	}
	if with != nil {
		for _, cte := range with.CTEList {
			if sel, ok := cte.Stmt.(*tree.Select); ok {
				allowed[sel] = true
			}
		}
	}
	var broken []string
	for _, sel := range nodesIn[*tree.Select](stmt) {
		if len(sel.Locking) > 0 && !allowed[sel] {
			broken = append(broken, fmt.Sprintf("a locking read nested in a subquery (%s): lock at the top of the statement or in a top-level CTE (DESIGN §4)", tree.AsString(&sel.Locking)))
		}
	}
	return broken
}
