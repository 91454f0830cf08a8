// Command trisa-refpeer is a TRISA peer assembled from the reference library
// (github.com/trisacrypto/trisa): envelopes, keys, mTLS and the gRPC service types all
// come from its packages, so what this peer does on the wire is what the TRISA network
// does. This file only parses the command line; serve.go and send.go are the two TRISA roles,
// trp_serve.go and trp_send.go the two TRP roles (the library's pkg/openvasp), trp_discover.go
// its discoverability client, traddr.go its Travel Address functions.
package main

import (
	"fmt"
	"os"
)

const usage = `usage:
  trisa-refpeer serve --listen HOST:PORT --cert PEM --key PEM --trust PEM --name CN
                      --policy accept|reject|pending|repair [--peer NAME=HOST:PORT]...
                      [--callback-after SECONDS] [--beneficiary-address ADDR]...
                      [--trp-listen HOST:PORT --trp-customer "SURNAME, GIVEN"
                       [--trp-host NAME] [--trp-immediate]]
  trisa-refpeer send  --to HOST:PORT --server-name CN --cert PEM --key PEM --trust PEM
                      --payload FILE [--state STARTED|COMPLETED|...] [--id UUID]
                      [--tamper hmac|ciphertext|key|algorithm|unsealed]
  trisa-refpeer trp-send --to TRAVEL_ADDRESS|URL --cert PEM --key PEM --trust PEM
                      --inquiry FILE [--api-version V] [--request-id ID] [--callback URL]
                      [--callback-listen HOST:PORT] [--wait SECONDS]
                      [--confirm TXID | --cancel REASON]
  trisa-refpeer trp-discover --to TRAVEL_ADDRESS|URL --cert PEM --key PEM --trust PEM
  trisa-refpeer traddr encode|make|decode VALUE...
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
	case "trp-send":
		code = trpSend(os.Args[2:])
	case "trp-discover":
		code = trpDiscover(os.Args[2:])
	case "traddr":
		code = traddrCommand(os.Args[2:])
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
