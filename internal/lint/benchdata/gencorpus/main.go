// Command gencorpus writes the lint benchmark corpus: gencorpus -out DIR [-n 2600].
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/schemagate/schemagate/internal/lint/benchdata"
)

func main() {
	out := flag.String("out", "", "directory to write the corpus to")
	n := flag.Int("n", 2600, "number of migration files")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gencorpus: -out DIR is required")
		os.Exit(2)
	}
	total, err := benchdata.Write(*out, *n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
	fmt.Printf("%d files, %d bytes in %s\n", *n, total, *out)
}
