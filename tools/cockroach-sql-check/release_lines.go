package main

// What the parser module cannot tell: which functions and session variables a
// CockroachDB release has. Each release line has two lists under releases/, taken
// from CockroachDB's own generated documentation and source at a named commit (the
// first lines of each file say where). A call or a setting not in a list is
// refused until someone checks CockroachDB's docs for that line and adds it.

import (
	"bufio"
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed releases/*.tsv releases/*.txt
var releaseFiles embed.FS

// arity is how many arguments one overload takes: exactly min, or min and more.
type arity struct {
	min      int
	variadic bool
}

func (a arity) accepts(n int) bool { return n == a.min || (a.variadic && n >= a.min) }

func (a arity) String() string {
	if a.variadic {
		return fmt.Sprintf("%d or more", a.min)
	}
	return strconv.Itoa(a.min)
}

// releaseLine is one CockroachDB release line's functions and session variables.
type releaseLine struct {
	name      string             // "v25.2"
	functions map[string][]arity // lower-case name → its overloads' arities
	variables map[string]bool    // session variable names
}

// releaseLines loads every releases/functions-<line>.tsv with its session-variables-<line>.txt.
func releaseLines() ([]releaseLine, error) {
	names, err := releaseFiles.ReadDir("releases")
	if err != nil {
		return nil, err
	}
	var lines []releaseLine
	for _, entry := range names {
		line, ok := strings.CutPrefix(entry.Name(), "functions-")
		if !ok {
			continue
		}
		line = strings.TrimSuffix(line, ".tsv")
		functions, err := readFunctions(path.Join("releases", entry.Name()))
		if err != nil {
			return nil, err
		}
		variables, err := readVariables(path.Join("releases", "session-variables-"+line+".txt"))
		if err != nil {
			return nil, err
		}
		lines = append(lines, releaseLine{line, functions, variables})
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("no release line under releases/")
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
	return lines, nil
}

// dataLines yields a file's lines without comments (#) and blank lines.
func dataLines(name string, each func(line string) error) error {
	file, err := releaseFiles.Open(name)
	if err != nil {
		return err
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := each(line); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	return scanner.Err()
}

// readFunctions reads `name <TAB> arguments <TAB> signature as documented`, one overload a line;
// arguments is a count, with + when the last one repeats.
func readFunctions(name string) (map[string][]arity, error) {
	functions := map[string][]arity{}
	err := dataLines(name, func(line string) error {
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			return fmt.Errorf("want name, arguments and signature separated by tabs, got %q", line)
		}
		count, variadic := strings.CutSuffix(fields[1], "+")
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			return fmt.Errorf("arguments %q is not a count", fields[1])
		}
		functions[strings.ToLower(fields[0])] = append(functions[strings.ToLower(fields[0])], arity{n, variadic})
		return nil
	})
	return functions, err
}

func readVariables(name string) (map[string]bool, error) {
	variables := map[string]bool{}
	err := dataLines(name, func(line string) error {
		variables[strings.ToLower(line)] = true
		return nil
	})
	return variables, err
}
