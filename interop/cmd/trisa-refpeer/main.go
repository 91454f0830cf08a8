// Command trisa-refpeer is a TRISA peer assembled from the reference library
// (github.com/trisacrypto/trisa): envelopes, keys, mTLS and the gRPC service types all
// come from its packages, so what this peer does on the wire is what the TRISA network
// does. This file only parses the command line; serve.go and send.go are the two roles.
package main

import (
	"fmt"
	"os"
)

const usage = `usage:
  trisa-refpeer serve --listen HOST:PORT --cert PEM --key PEM --trust PEM --name CN
                      --policy accept|reject|pending|repair [--peer NAME=HOST:PORT]...
                      [--callback-after SECONDS] [--beneficiary-address ADDR]...
  trisa-refpeer send  --to HOST:PORT --server-name CN --cert PEM --key PEM --trust PEM
                      --payload FILE [--state STARTED|COMPLETED|...] [--id UUID]
                      [--tamper hmac|ciphertext|key|algorithm|unsealed]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var code int
	switch os.Args[1] {
	case "serve":
		code = serve(os.Args[2:])
	case "send":
		code = send(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "trisa-refpeer: unknown command %q\n%s", os.Args[1], usage)
		code = 2
	}
	os.Exit(code)
}

// fail prints a message a person can act on and returns the exit code for it.
func fail(code int, format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "trisa-refpeer: "+format+"\n", args...)
	return code
}
