package main

// Referees for what CockroachDB's grammar accepts but a release line may not run:
// functions and their argument counts, session variables, and two structures that
// are right on PostgreSQL and wrong on a cluster (an index led by a timestamp or a
// nullable column, DDL inside an explicit transaction).

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// call is one function call as written: its name (without pg_catalog.) and argument count.
type call struct {
	name string
	args int
}

func (c call) String() string { return fmt.Sprintf("%s/%d", c.name, c.args) }

// functionName is a call's name as CockroachDB's function list has it: lower case, without pg_catalog.
func functionName(f *tree.FuncExpr) string {
	return strings.TrimPrefix(strings.ToLower(tree.AsString(&f.Func)), "pg_catalog.")
}

// callsIn finds every function, aggregate and window function call in a syntax tree.
func callsIn(stmt tree.Statement) []call {
	var calls []call
	for _, f := range nodesIn[*tree.FuncExpr](stmt) {
		name, args := functionName(f), len(f.Exprs)
		if args == 1 {
			if _, star := f.Exprs[0].(tree.UnqualifiedStar); star && name == "count" {
				name, args = "count_rows", 0 // count(*) is count_rows() in CockroachDB's function list
			}
		}
		calls = append(calls, call{name, args})
	}
	return calls
}

// unknownCalls are the calls a release line has no overload for.
func unknownCalls(calls []call, line releaseLine) []string {
	var broken []string
	for _, c := range calls {
		overloads, ok := line.functions[c.name]
		if !ok {
			broken = append(broken, fmt.Sprintf("%s(): not a function of CockroachDB %s (releases/functions-%s.tsv)", c.name, line.name, line.name))
			continue
		}
		accepted := false
		var counts []string
		for _, a := range overloads {
			accepted = accepted || a.accepts(c.args)
			counts = append(counts, a.String())
		}
		if !accepted {
			broken = append(broken, fmt.Sprintf("%s() with %d arguments: CockroachDB %s has it with %s", c.name, c.args, line.name, strings.Join(unique(counts), ", ")))
		}
	}
	return broken
}

func unique(values []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// setting is one session variable a statement or a connection names, and the value it gives it, if any.
type setting struct {
	name  string
	value string
}

// settingsIn finds the session variables in SET, SET LOCAL, SHOW, current_setting() and set_config().
func settingsIn(stmt tree.Statement) []setting {
	var found []setting
	for _, s := range nodesIn[*tree.SetVar](stmt) {
		if s.Name == "" || s.Reset || s.ResetAll {
			continue
		}
		var values []string
		for _, v := range s.Values {
			values = append(values, strings.Trim(tree.AsString(v), "'"))
		}
		found = append(found, setting{strings.ToLower(s.Name), strings.ToLower(strings.Join(values, ", "))})
	}
	for _, s := range nodesIn[*tree.ShowVar](stmt) {
		found = append(found, setting{strings.ToLower(s.Name), ""})
	}
	for _, f := range nodesIn[*tree.FuncExpr](stmt) {
		name := functionName(f)
		if (name == "current_setting" || name == "set_config") && len(f.Exprs) > 0 {
			if literal, ok := f.Exprs[0].(*tree.StrVal); ok {
				value := ""
				if name == "set_config" && len(f.Exprs) > 1 {
					if v, ok := f.Exprs[1].(*tree.StrVal); ok {
						value = strings.ToLower(v.RawString())
					}
				}
				found = append(found, setting{strings.ToLower(literal.RawString()), value})
			}
		}
	}
	return found
}

// startupSettings reads a connection's `options` as PostgreSQL does: `-c name=value`,
// `-cname=value` or `--name=value`, a backslash keeping the character after it.
func startupSettings(options string) ([]setting, error) {
	var words []string
	var word strings.Builder
	escaped, inWord := false, false
	for _, r := range options {
		switch {
		case escaped:
			word.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	var found []setting
	for i := 0; i < len(words); i++ {
		var pair string
		switch w := words[i]; {
		case w == "-c" && i+1 < len(words):
			i++
			pair = words[i]
		case strings.HasPrefix(w, "-c") && len(w) > 2:
			pair = w[2:]
		case strings.HasPrefix(w, "--"):
			pair = strings.ReplaceAll(w[2:], "-", "_")
		default:
			return nil, fmt.Errorf("startup option %q is not -c name=value", w)
		}
		name, value, ok := strings.Cut(pair, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("startup option %q is not name=value", pair)
		}
		found = append(found, setting{strings.ToLower(name), strings.ToLower(value)})
	}
	return found, nil
}

// unknownSettings are the names a release line has no session variable for.
func unknownSettings(settings []setting, line releaseLine) []string {
	var broken []string
	for _, s := range settings {
		if !line.variables[s.name] {
			broken = append(broken, fmt.Sprintf("session variable %s: not one of CockroachDB %s (releases/session-variables-%s.txt)", s.name, line.name, line.name))
		}
	}
	return broken
}

// clusterDependent says what a setting or a transaction mode means only on some
// clusters: READ COMMITTED runs as such only where the cluster setting
// sql.txn.read_committed_isolation.enabled is on (else the transaction is
// SERIALIZABLE), and REPEATABLE READ only where sql.txn.repeatable_read_isolation.enabled
// is on (else it is silently upgraded) (CockroachDB docs: read-committed, "Enable
// READ COMMITTED isolation"; transactions, "Isolation levels").
func clusterDependent(stmt tree.Statement, settings []setting) []string {
	var notes []string
	isolation := func(level string) {
		switch strings.ToLower(level) {
		case "read committed":
			notes = append(notes, "READ COMMITTED: only where sql.txn.read_committed_isolation.enabled is on; SERIALIZABLE elsewhere")
		case "repeatable read", "snapshot":
			notes = append(notes, "REPEATABLE READ: only where sql.txn.repeatable_read_isolation.enabled is on; SERIALIZABLE elsewhere")
		}
	}
	for _, s := range settings {
		if s.name == "default_transaction_isolation" || s.name == "transaction_isolation" {
			isolation(s.value)
		}
	}
	if stmt != nil {
		var modes []tree.TransactionModes
		for _, b := range nodesIn[*tree.BeginTransaction](stmt) {
			modes = append(modes, b.Modes)
		}
		for _, s := range nodesIn[*tree.SetTransaction](stmt) {
			modes = append(modes, s.Modes)
		}
		for _, m := range modes {
			switch m.Isolation {
			case tree.ReadCommittedIsolation:
				isolation("read committed")
			case tree.RepeatableReadIsolation, tree.SnapshotIsolation:
				isolation("repeatable read")
			}
		}
	}
	return notes
}

// ddlInTransaction: DDL sent inside BEGIN … COMMIT. In CockroachDB a schema change
// is a job that runs after the transaction commits, and with the autocommit_before_ddl
// session setting on "any schema change statement that is sent during an explicit
// transaction will cause the transaction to commit before executing the schema
// change" (docs, sql/auto-commit-before-ddl): what came before it commits alone, and
// the rest runs outside any transaction. Migrations send each DDL statement on its own.
func ddlInTransaction(stmts []tree.Statement, sentInTransaction bool) []string {
	inTransaction := sentInTransaction
	for _, stmt := range stmts {
		switch {
		case isBegin(stmt):
			inTransaction = true
		case isEnd(stmt):
			inTransaction = false
		case tree.CanModifySchema(stmt) && inTransaction:
			return []string{fmt.Sprintf("DDL inside an explicit transaction (%s): send it on its own (DESIGN §4)", stmt.StatementTag())}
		}
	}
	return nil
}

func isEnd(stmt tree.Statement) bool {
	switch stmt.(type) {
	case *tree.CommitTransaction, *tree.RollbackTransaction:
		return true
	}
	return false
}

// column is what the index rule needs of a declared column.
type column struct {
	typ      *types.T
	nullable bool
}

// tableColumns maps each recorded table (schema-qualified, as tableName writes it) to its columns.
func tableColumns(stmts []tree.Statement) map[string]map[string]column {
	tables := map[string]map[string]column{}
	add := func(table string, def *tree.ColumnTableDef, primaryKey map[string]bool) {
		if tables[table] == nil {
			tables[table] = map[string]column{}
		}
		typ, _ := tree.GetStaticallyKnownType(def.Type)
		nullable := def.Nullable.Nullability != tree.NotNull && !def.PrimaryKey.IsPrimaryKey && !primaryKey[string(def.Name)]
		tables[table][string(def.Name)] = column{typ, nullable}
	}
	for _, stmt := range stmts {
		switch s := stmt.(type) {
		case *tree.CreateTable:
			table := tableName(&s.Table)
			primaryKey := map[string]bool{}
			for _, def := range s.Defs {
				if u, ok := def.(*tree.UniqueConstraintTableDef); ok && u.PrimaryKey {
					for _, c := range u.Columns {
						primaryKey[string(c.Column)] = true
					}
				}
			}
			for _, def := range s.Defs {
				if c, ok := def.(*tree.ColumnTableDef); ok {
					add(table, c, primaryKey)
				}
			}
		case *tree.AlterTable:
			for _, cmd := range s.Cmds {
				if c, ok := cmd.(*tree.AlterTableAddColumn); ok {
					name := s.Table.ToTableName()
					add(tableName(&name), c.ColumnDef, nil)
				}
			}
		}
	}
	return tables
}

// droppedIndexes are the index names a recorded DROP INDEX removes.
func droppedIndexes(stmts []tree.Statement) map[string]bool {
	dropped := map[string]bool{}
	for _, stmt := range stmts {
		if d, ok := stmt.(*tree.DropIndex); ok {
			for _, index := range d.IndexList {
				name := string(index.Index)
				if name == "" { // PostgreSQL's schema.index form reads as a table name here
					name = string(index.Table.ObjectName)
				}
				dropped[strings.ToLower(name)] = true
			}
		}
	}
	return dropped
}

// index is one index a statement declares: its table, name, first column and how it is built.
type index struct {
	table, name, lead string
	sharded           bool
	predicate         tree.Expr
}

func indexesIn(stmt tree.Statement) []index {
	var found []index
	switch s := stmt.(type) {
	case *tree.CreateIndex:
		if len(s.Columns) > 0 && s.Type.HasLinearOrdering() {
			found = append(found, index{tableName(&s.Table), string(s.Name), string(s.Columns[0].Column), s.Sharded != nil, s.Predicate})
		}
	case *tree.CreateTable:
		table := tableName(&s.Table)
		for _, def := range s.Defs {
			var d *tree.IndexTableDef
			switch i := def.(type) {
			case *tree.IndexTableDef:
				d = i
			case *tree.UniqueConstraintTableDef:
				d = &i.IndexTableDef
			}
			if d != nil && len(d.Columns) > 0 && d.Type.HasLinearOrdering() {
				found = append(found, index{table, string(d.Name), string(d.Columns[0].Column), d.Sharded != nil, d.Predicate})
			}
		}
	}
	return found
}

// badlyLedIndexes: an index whose first column is a timestamp puts every new row at
// its end, in one range of a cluster; one led by a nullable column puts every row
// without a value in one NULL prefix. CockroachDB's remedy for the first is a
// hash-sharded index (docs: hash-sharded-indexes, "Hash-sharded indexes ... for
// sequential keys"), for the second a partial index WHERE lead IS NOT NULL. An index
// a later migration drops is not held against the schema.
func badlyLedIndexes(stmt tree.Statement, tables map[string]map[string]column, dropped map[string]bool) []string {
	var broken []string
	for _, ix := range indexesIn(stmt) {
		if ix.sharded || (ix.name != "" && dropped[strings.ToLower(ix.name)]) {
			continue
		}
		c, known := tables[ix.table][ix.lead]
		if !known {
			continue
		}
		label := ix.name
		if label == "" {
			label = "an index"
		}
		if c.typ != nil && (c.typ.Family() == types.TimestampTZFamily || c.typ.Family() == types.TimestampFamily) {
			broken = append(broken, fmt.Sprintf("%s on %s is led by the timestamp %s: every new row lands in one range; hash-shard it (USING HASH) (DESIGN §4)", label, ix.table, ix.lead))
		} else if c.nullable && !excludesNull(ix.predicate, ix.lead) {
			broken = append(broken, fmt.Sprintf("%s on %s is led by the nullable %s: every row without one lands in one range; add WHERE %s IS NOT NULL (DESIGN §4)", label, ix.table, ix.lead, ix.lead))
		}
	}
	return broken
}

// excludesNull: the predicate says `column IS NOT NULL`, alone or in an AND.
func excludesNull(predicate tree.Expr, column string) bool {
	switch p := predicate.(type) {
	case *tree.ParenExpr:
		return excludesNull(p.Expr, column)
	case *tree.AndExpr:
		return excludesNull(p.Left, column) || excludesNull(p.Right, column)
	case *tree.IsNotNullExpr:
		name, ok := p.Expr.(*tree.UnresolvedName)
		return ok && name.NumParts == 1 && name.Parts[0] == column
	}
	return false
}
