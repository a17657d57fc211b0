package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestMedianTable(t *testing.T) {
	in := `goos: linux
BenchmarkSnapshot/bare-list-2   3  100 ns/op  10 objects/s
BenchmarkSnapshot/bare-list-2   3  300 ns/op  30 objects/s
BenchmarkSnapshot/bare-list-2   3  200 ns/op  20 objects/s
BenchmarkSnapshot/snapshot-2    3  240 ns/op
BenchmarkSnapshot/snapshot-2    3  260 ns/op
PASS
`
	var out bytes.Buffer
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"BenchmarkSnapshot/bare-list ns/op 200 3",
		"BenchmarkSnapshot/bare-list objects/s 20 3",
		"BenchmarkSnapshot/snapshot ns/op 250 2",
		"BenchmarkSnapshot/snapshot / bare-list (median time): 1.25x",
	} {
		// Compare with columns collapsed to single spaces.
		var lines []string
		for _, l := range strings.Split(out.String(), "\n") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
		if !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
