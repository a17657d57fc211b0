// Command benchmedian reads `go test -bench` output on stdin and prints the
// median of every metric of every benchmark as a table, with the ratio of
// each BenchmarkSnapshot sub-benchmark to its bare-list baseline.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var gomaxprocs = regexp.MustCompile(`-\d+$`)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchmedian:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	type key struct{ name, unit string }
	values := map[key][]float64{}
	var order []key
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := gomaxprocs.ReplaceAllString(f[0], "")
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			k := key{name, f[i+1]}
			if _, ok := values[k]; !ok {
				order = append(order, k)
			}
			values[k] = append(values[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%-50s %-20s %14s %5s\n", "benchmark", "unit", "median", "runs")
	for _, k := range order {
		fmt.Fprintf(out, "%-50s %-20s %14.4g %5d\n", k.name, k.unit, median(values[k]), len(values[k]))
	}
	base := values[key{"BenchmarkSnapshot/bare-list", "ns/op"}]
	if len(base) > 0 {
		fmt.Fprintln(out)
		for _, k := range order {
			if strings.HasPrefix(k.name, "BenchmarkSnapshot/") && k.unit == "ns/op" && k.name != "BenchmarkSnapshot/bare-list" {
				fmt.Fprintf(out, "%s / bare-list (median time): %.2fx\n", k.name, median(values[k])/median(base))
			}
		}
	}
	return nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
