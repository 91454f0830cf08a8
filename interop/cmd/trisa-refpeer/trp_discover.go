package main

// `trp-discover`: the reference library's TRP client asks a node's /identity and the
// discoverability extension's /version, /uptime and /extensions, and parses each answer
// into the library's own types (trp.Identity, discoverability.Version, Uptime, Extensions).

import (
	"context"
	"flag"
	"time"

	trpclient "github.com/trisacrypto/trisa/pkg/openvasp/client"
)

func trpDiscover(args []string) int {
	flags := flag.NewFlagSet("trp-discover", flag.ContinueOnError)
	to := flags.String("to", "", "Travel Address, LNURL or https URL on the node")
	cert := flags.String("cert", "", "certificate chain PEM")
	key := flags.String("key", "", "private key PEM")
	trustPath := flags.String("trust", "", "CA bundle PEM that the server must chain to")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *to == "" {
		return fail(2, "trp-discover: --to is required")
	}
	n, err := loadNode(*cert, *key, *trustPath)
	if err != nil {
		return fail(2, "trp-discover: %v", err)
	}
	client, err := trpclient.New(trpclient.WithMTLS(n.identity, n.pool))
	if err != nil {
		return fail(2, "trp-discover: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[string]any{}
	if identity, err := client.Identity(ctx, *to); err != nil {
		out["identity"] = map[string]any{"error": describe(err)}
	} else {
		out["identity"] = identity
	}
	if version, err := client.Version(ctx, *to); err != nil {
		out["version"] = map[string]any{"error": describe(err)}
	} else {
		out["version"] = version
	}
	if uptime, err := client.Uptime(ctx, *to); err != nil {
		out["uptime"] = map[string]any{"error": describe(err)}
	} else {
		out["uptime"] = map[string]any{"seconds": time.Duration(uptime).Seconds()}
	}
	if extensions, err := client.Extensions(ctx, *to); err != nil {
		out["extensions"] = map[string]any{"error": describe(err)}
	} else {
		out["extensions"] = extensions
	}
	return printJSON(out)
}
