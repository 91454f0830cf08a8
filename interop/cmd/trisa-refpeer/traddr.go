package main

// `traddr encode|make|decode VALUE...`: the reference library's Travel Address functions
// (openvasp/traddr), one JSON line per value, so their output can be set beside
// `travelgate traddr`.

import (
	"encoding/json"
	"os"

	"github.com/trisacrypto/trisa/pkg/openvasp/traddr"
)

var traddrFunctions = map[string]func(string) (string, error){
	"encode": traddr.Encode,    // strict: host[:port][/path]?t=i, no scheme
	"make":   traddr.Make,      // lenient: any URL, scheme dropped, t=i set, query sorted
	"decode": traddr.DecodeURL, // Travel Address -> https URL
}

func traddrCommand(args []string) int {
	if len(args) < 2 {
		return fail(2, "traddr: usage: traddr encode|make|decode VALUE...")
	}
	function, ok := traddrFunctions[args[0]]
	if !ok {
		return fail(2, "traddr: unknown function %q (encode, make or decode)", args[0])
	}
	encoder := json.NewEncoder(os.Stdout)
	for _, value := range args[1:] {
		line := map[string]string{"input": value}
		if output, err := function(value); err != nil {
			line["error"] = err.Error()
		} else {
			line["output"] = output
		}
		if err := encoder.Encode(line); err != nil {
			return fail(1, "traddr: %v", err)
		}
	}
	return 0
}
