// Command cockroach-sql-check runs CockroachDB's own SQL parser over every
// distinct statement roachbank sent during `npm test` (recorded by
// test/support/record-sql.mjs), and checks each explicit cast against
// CockroachDB's cast table, each function call and session variable against
// the lists of every supported release line (releases/), and the structure
// rules of DESIGN §4 (rules.go, referees.go). It exits 1 when CockroachDB's
// grammar refuses a statement (unimplemented syntax included) or any check fails.
//
// What it proves: the text parses in CockroachDB's grammar of the pinned
// release line, names only types CockroachDB has, casts only where CockroachDB
// has that cast, calls only functions each release line has with that many
// arguments, and names only its session variables. What it cannot: anything
// decided at execution (argument types, column and table names, semantics such
// as isolation, locking, or what a statement returns); those rules stay in
// DESIGN §4 and are checked by hand.
//
// Usage: go run . [-json] RECORD_FOLDER
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"unsafe"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/pgwire/pgerror"
	// DO blocks: CockroachDB's SQL parser hands their PL/pgSQL to this one.
	_ "github.com/cockroachdb/cockroachdb-parser/pkg/sql/plpgsql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/cast"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// record is one line of the recorder's output.
type record struct {
	Sender string `json:"sender"` // product, seed, test or unattributed
	Text   string `json:"text"`
	// Sent while the connection was inside BEGIN … COMMIT.
	InTransaction bool `json:"inTransaction"`
	// Sent only to PostgreSQL (test/run-tests.ts lists them): CockroachDB never sees it.
	PostgresqlOnly bool `json:"postgresqlOnly"`
	// Set instead of Text: the startup `options` a connection sent.
	StartupOptions string `json:"startupOptions"`
}

// statement is one distinct SQL text and who sent it.
type statement struct {
	text           string
	senders        map[string]bool
	inTransaction  bool
	postgresqlOnly bool
}

// startup is one distinct `options` value a connection sent, and who opened it.
type startup struct {
	options string
	sender  string
}

// kind is how the report counts a statement: the product's first.
func (s *statement) kind() string {
	for _, k := range []string{"product", "seed", "unattributed"} {
		if s.senders[k] {
			return k
		}
	}
	return "test"
}

type problem struct {
	Kind      string `json:"kind"`
	Statement string `json:"statement"`
	Message   string `json:"message"`
}

type castUse struct {
	from, to string
	checked  bool
}

type summary struct {
	Checked        map[string]int `json:"checked"`
	Shapes         int            `json:"shapes"`
	TestOnly       int            `json:"testOnly"`
	PostgresqlOnly int            `json:"postgresqlOnly"`
	Casts          map[string]int `json:"casts"`
	Functions      map[string]int `json:"functions"`
	Settings       map[string]int `json:"settings"`
	// What runs as written only on clusters configured for it, and how often it is sent.
	ClusterDependent map[string]int `json:"clusterDependent"`
	Problems         []problem      `json:"problems"`
	Release          string         `json:"release"`
	Lines            []string       `json:"releaseLines"`
}

func main() {
	asJSON := flag.Bool("json", false, "print the summary as JSON")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: cockroach-sql-check [-json] RECORD_FOLDER")
		os.Exit(2)
	}
	statements, startups, err := readRecords(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cockroach-sql-check:", err)
		os.Exit(2)
	}
	lines, err := releaseLines()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cockroach-sql-check:", err)
		os.Exit(2)
	}

	result := check(statements, startups, lines)
	if *asJSON {
		out, _ := json.MarshalIndent(result, "", "  ")
		fmt.Println(string(out))
	} else {
		printReport(result)
	}
	if len(result.Problems) > 0 {
		os.Exit(1)
	}
}

// check parses every statement a test did not send alone and checks its casts,
// its function calls and session settings against each release line, and its structure.
func check(statements []*statement, startups []startup, lines []releaseLine) summary {
	result := summary{
		Checked: map[string]int{}, Casts: map[string]int{}, Functions: map[string]int{}, Settings: map[string]int{},
		ClusterDependent: map[string]int{}, Release: parserRelease(),
	}
	for _, line := range lines {
		result.Lines = append(result.Lines, line.name)
	}
	parsed := map[*statement][]tree.Statement{}
	var all []tree.Statement
	shapes := map[string]bool{} // statements with their constants hidden, as CockroachDB's statement statistics group them
	for _, s := range statements {
		kind := s.kind()
		if kind == "test" {
			result.TestOnly++
			continue
		}
		if s.postgresqlOnly {
			result.PostgresqlOnly++
			continue
		}
		result.Checked[kind]++
		stmts, err := parser.Parse(s.text)
		if err != nil {
			result.Problems = append(result.Problems, problem{kind, s.text, describe(err)})
			continue
		}
		for _, stmt := range stmts {
			parsed[s] = append(parsed[s], stmt.AST)
			all = append(all, stmt.AST)
			shapes[tree.AsStringWithFlags(stmt.AST, tree.FmtHideConstants)] = true
		}
	}

	result.Shapes = len(shapes)
	tables := tableColumns(all)
	columns := columnTypes(tables)
	dropped := droppedIndexes(all)
	for _, s := range statements {
		var broken []string
		broken = append(broken, designRules(parsed[s], columns)...)
		broken = append(broken, ddlInTransaction(parsed[s], s.inTransaction)...)
		for _, stmt := range parsed[s] {
			broken = append(broken, badlyLedIndexes(stmt, tables, dropped)...)
			calls, settings := callsIn(stmt), settingsIn(stmt)
			for _, c := range calls {
				result.Functions[c.String()]++
			}
			for _, setting := range settings {
				result.Settings[setting.name]++
			}
			for _, note := range clusterDependent(stmt, settings) {
				result.ClusterDependent[note]++
			}
			for _, line := range lines {
				broken = append(broken, unknownCalls(calls, line)...)
				broken = append(broken, unknownSettings(settings, line)...)
			}
		}
		for _, message := range broken {
			result.Problems = append(result.Problems, problem{s.kind(), s.text, message})
		}
		for _, c := range castsInAll(parsed[s]) {
			use, err := checkCast(c, columns)
			if err != nil {
				result.Problems = append(result.Problems, problem{s.kind(), s.text, err.Error()})
				continue
			}
			label := fmt.Sprintf("%s → %s", use.from, use.to)
			if !use.checked {
				label += " (target type only)"
			}
			result.Casts[label]++
		}
	}

	for _, st := range startups {
		kind := st.sender
		if kind == "test" {
			continue
		}
		settings, err := startupSettings(st.options)
		if err != nil {
			result.Problems = append(result.Problems, problem{kind, "options=" + st.options, err.Error()})
			continue
		}
		for _, setting := range settings {
			result.Settings[setting.name+" (startup option)"]++
		}
		for _, note := range clusterDependent(nil, settings) {
			result.ClusterDependent[note+" (startup option)"]++
		}
		for _, line := range lines {
			for _, message := range unknownSettings(settings, line) {
				result.Problems = append(result.Problems, problem{kind, "options=" + st.options, message})
			}
		}
	}
	return result
}

// readRecords reads every *.jsonl file in folder: one statement per distinct text
// (inside a transaction and outside counted apart), and each distinct startup options.
func readRecords(folder string) ([]*statement, []startup, error) {
	files, err := filepath.Glob(filepath.Join(folder, "*.jsonl"))
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no recorded statements in %s (run npm test first)", folder)
	}
	byText := map[string]*statement{}
	startups := map[startup]bool{}
	for _, name := range files {
		file, err := os.Open(name)
		if err != nil {
			return nil, nil, err
		}
		scanner := bufio.NewScanner(file)
		scanner.Buffer(make([]byte, 1<<20), 64<<20)
		for scanner.Scan() {
			var r record
			if err := json.Unmarshal(scanner.Bytes(), &r); err != nil {
				file.Close()
				return nil, nil, fmt.Errorf("%s: %w", name, err)
			}
			if r.StartupOptions != "" {
				startups[startup{r.StartupOptions, r.Sender}] = true
				continue
			}
			key := r.Text
			if r.InTransaction {
				key = "\x00in transaction\x00" + r.Text
			}
			s := byText[key]
			if s == nil {
				s = &statement{text: r.Text, senders: map[string]bool{}, inTransaction: r.InTransaction}
				byText[key] = s
			}
			s.senders[r.Sender] = true
			s.postgresqlOnly = s.postgresqlOnly || r.PostgresqlOnly
		}
		file.Close()
		if err := scanner.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	// A text sent only to PostgreSQL is so wherever it was recorded.
	pgOnly := map[string]bool{}
	for _, s := range byText {
		if s.postgresqlOnly {
			pgOnly[s.text] = true
		}
	}
	statements := make([]*statement, 0, len(byText))
	for _, s := range byText {
		s.postgresqlOnly = pgOnly[s.text]
		statements = append(statements, s)
	}
	sort.Slice(statements, func(i, j int) bool {
		if statements[i].text != statements[j].text {
			return statements[i].text < statements[j].text
		}
		return !statements[i].inTransaction
	})
	list := make([]startup, 0, len(startups))
	for st := range startups {
		list = append(list, st)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].options+list[i].sender < list[j].options+list[j].sender })
	return statements, list, nil
}

// describe is the parser's message with its SQLSTATE and hints, as a client would see them.
func describe(err error) string {
	message := fmt.Sprintf("%s (SQLSTATE %s)", err.Error(), pgerror.GetPGCode(err))
	if flat := pgerror.Flatten(err); flat.Hint != "" {
		message += "\nHINT: " + flat.Hint
	}
	return message
}

// columnTypes maps each column name declared in the recorded tables to its type,
// when all declarations of that name agree (an expression names a column, not its table).
func columnTypes(tables map[string]map[string]column) map[string]*types.T {
	seen := map[string]map[string]*types.T{}
	for _, columns := range tables {
		for name, c := range columns {
			if c.typ == nil {
				continue
			}
			if seen[name] == nil {
				seen[name] = map[string]*types.T{}
			}
			seen[name][c.typ.SQLString()] = c.typ
		}
	}
	columns := map[string]*types.T{}
	for name, typs := range seen {
		if len(typs) == 1 {
			for _, typ := range typs {
				columns[name] = typ
			}
		}
	}
	return columns
}

func castsInAll(stmts []tree.Statement) []*tree.CastExpr {
	var found []*tree.CastExpr
	for _, stmt := range stmts {
		found = append(found, nodesIn[*tree.CastExpr](stmt)...)
	}
	return found
}

var typeType = reflect.TypeOf(&types.T{})

// nodesIn finds every node of type T (a pointer type) anywhere in a syntax
// tree, DDL defaults and constraints included, by walking its Go values: the
// parser's own walker covers expressions in some statements only.
func nodesIn[T any](node any) []T {
	want := reflect.TypeOf((*T)(nil)).Elem()
	var found []T
	visited := map[uintptr]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || v.Type() == typeType || visited[v.Pointer()] {
				return
			}
			visited[v.Pointer()] = true
			if v.Type() == want {
				found = append(found, reflect.NewAt(want.Elem(), unsafe.Pointer(v.Pointer())).Interface().(T))
			}
			walk(v.Elem())
		case reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(node))
	return found
}

// checkCast resolves the cast's target type and, where the source's type is
// known without a cluster (a constant, a placeholder, another cast, a column
// of a recorded table), looks the cast up in CockroachDB's cast table.
func checkCast(c *tree.CastExpr, columns map[string]*types.T) (castUse, error) {
	to, err := tree.ResolveType(context.Background(), c.Type, nil)
	if err != nil {
		return castUse{}, fmt.Errorf("cast to %s: %v", tree.AsString(c.Type.(tree.NodeFormatter)), err)
	}
	from, label := sourceType(c.Expr, columns)
	if from == nil {
		return castUse{from: label, to: to.SQLString(), checked: label == "placeholder" || label == "string literal" || label == "NULL"}, nil
	}
	if !cast.ValidCast(from, to, cast.ContextExplicit) {
		return castUse{}, fmt.Errorf("CockroachDB has no cast from %s to %s: %s", from.SQLString(), to.SQLString(), tree.AsString(c))
	}
	return castUse{from: from.SQLString(), to: to.SQLString(), checked: true}, nil
}

// sourceType is the type of a cast's operand when it is known statically, or nil and what it is.
func sourceType(expr tree.Expr, columns map[string]*types.T) (*types.T, string) {
	switch e := expr.(type) {
	case *tree.ParenExpr:
		return sourceType(e.Expr, columns)
	case *tree.Placeholder:
		return nil, "placeholder" // typed by the cast itself
	case *tree.StrVal:
		return nil, "string literal" // parsed as the target type
	case *tree.NumVal:
		if e.ShouldBeInt64() {
			return types.Int, ""
		}
		return types.Decimal, ""
	case *tree.DBool:
		return types.Bool, ""
	case *tree.CastExpr:
		if typ, err := tree.ResolveType(context.Background(), e.Type, nil); err == nil {
			return typ, ""
		}
	case *tree.UnresolvedName:
		if typ, ok := columns[e.Parts[0]]; ok {
			return typ, ""
		}
		return nil, "column " + e.Parts[0]
	case *tree.FuncExpr:
		return nil, "function " + strings.ToLower(tree.AsString(&e.Func))
	case *tree.Subquery:
		return nil, "subquery"
	}
	if expr == tree.DNull {
		return nil, "NULL" // casts to every type
	}
	return nil, fmt.Sprintf("%T", expr)
}

// parserRelease names the parser module's version, which is CockroachDB's release with "v0." in front.
func parserRelease() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/cockroachdb/cockroachdb-parser" {
				return "cockroachdb-parser " + dep.Version + ", CockroachDB " + strings.Replace(dep.Version, "v0.", "v", 1)
			}
		}
	}
	return "cockroachdb-parser"
}

func printReport(result summary) {
	total := 0
	for _, n := range result.Checked {
		total += n
	}
	fmt.Printf("CockroachDB parser (%s): %d distinct SQL texts checked (product %d, seed demos %d, unattributed %d), %d statements once constants are hidden; %d test-only texts left out\n",
		result.Release, total, result.Checked["product"], result.Checked["seed"], result.Checked["unattributed"], result.Shapes, result.TestOnly)
	labels := make([]string, 0, len(result.Casts))
	for label := range result.Casts {
		labels = append(labels, label)
	}
	sort.Strings(labels)
	fmt.Println("casts:")
	for _, label := range labels {
		fmt.Printf("  %-48s %d\n", label, result.Casts[label])
	}
	printCounts := func(title string, counts map[string]int) {
		names := make([]string, 0, len(counts))
		for name := range counts {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Println(title)
		for _, name := range names {
			fmt.Printf("  %-48s %d\n", name, counts[name])
		}
	}
	printCounts(fmt.Sprintf("functions called (name/arguments), checked against %s:", strings.Join(result.Lines, " and ")), result.Functions)
	printCounts(fmt.Sprintf("session variables named, checked against %s:", strings.Join(result.Lines, " and ")), result.Settings)
	printCounts("as written only on clusters configured for it (not a failure; README, Running on CockroachDB):", result.ClusterDependent)
	fmt.Printf("%d texts sent only to PostgreSQL left out\n", result.PostgresqlOnly)
	for _, p := range result.Problems {
		fmt.Printf("\nREFUSED (%s): %s\n  %s\n", p.Kind, strings.ReplaceAll(p.Message, "\n", "\n  "), strings.ReplaceAll(strings.TrimSpace(p.Statement), "\n", "\n  "))
	}
	if len(result.Problems) == 0 {
		fmt.Println("every statement parses, every cast, function and session variable exists, and no index or DDL breaks DESIGN §4, in CockroachDB")
	}
}
