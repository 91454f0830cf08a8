package main

// The TRP originator role, `trp-send`: one inquiry with the reference library's TRP client
// (openvasp/client over its TRISA mTLS options) to a Travel Address, LNURL or URL; the
// resolution callback served on a short-lived HTTPS listener (the library has no handler
// for it: the glue decodes it into the library's trp.Resolution and runs its Validate);
// then optionally the confirmation to the approval's callback, again with the client.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/trisacrypto/trisa/pkg/openvasp"
	trpclient "github.com/trisacrypto/trisa/pkg/openvasp/client"
	"github.com/trisacrypto/trisa/pkg/openvasp/trp/v3"
	"github.com/trisacrypto/trisa/pkg/trisa/mtls"
)

const resolutionPrefix = "/resolve/"

// received is a resolution as it came to our callback, with the library's verdict on it.
type received struct {
	APIVersion        string          `json:"apiVersion"`
	RequestIdentifier string          `json:"requestIdentifier"`
	Resolution        *trp.Resolution `json:"resolution,omitempty"`
	Invalid           string          `json:"invalid,omitempty"`
}

func trpSend(args []string) int {
	flags := flag.NewFlagSet("trp-send", flag.ContinueOnError)
	to := flags.String("to", "", "Travel Address, LNURL or https URL of the beneficiary")
	cert := flags.String("cert", "", "certificate chain PEM")
	key := flags.String("key", "", "private key PEM")
	trustPath := flags.String("trust", "", "CA bundle PEM that the server must chain to")
	inquiryPath := flags.String("inquiry", "", "JSON file: asset, amount, IVMS101 (and optionally callback)")
	apiVersion := flags.String("api-version", "", "api-version header to send (default: the library's)")
	requestID := flags.String("request-id", "", "request-identifier (default: a new UUID)")
	callback := flags.String("callback", "", "callback URL to send instead of our own listener's")
	callbackListen := flags.String("callback-listen", "127.0.0.1:0", "HOST:PORT of our resolution callback")
	wait := flags.Float64("wait", 30, "seconds to wait for the resolution at our callback (0: do not wait)")
	confirm := flags.String("confirm", "", "after an approval, send this txid to the approval's callback")
	cancelReason := flags.String("cancel", "", "after an approval, cancel with this reason instead")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *to == "" || *inquiryPath == "" {
		return fail(2, "trp-send: --to and --inquiry are required")
	}
	if *confirm != "" && *cancelReason != "" {
		return fail(2, "trp-send: --confirm and --cancel exclude each other")
	}
	n, err := loadNode(*cert, *key, *trustPath)
	if err != nil {
		return fail(2, "trp-send: %v", err)
	}
	raw, err := os.ReadFile(*inquiryPath)
	if err != nil {
		return fail(2, "trp-send: --inquiry: %v", err)
	}
	inquiry := &trp.Inquiry{}
	if err := json.Unmarshal(raw, inquiry); err != nil {
		return fail(2, "trp-send: --inquiry: %v", err)
	}
	options := []trpclient.ClientOption{trpclient.WithMTLS(n.identity, n.pool)}
	if *apiVersion != "" {
		options = append(options, trpclient.WithAPIVersion(*apiVersion))
	}
	client, err := trpclient.New(options...)
	if err != nil {
		return fail(2, "trp-send: %v", err)
	}
	identifier := *requestID
	if identifier == "" {
		identifier = uuid.NewString()
	}

	resolutions := make(chan received, 4)
	if *callback != "" {
		inquiry.Callback = *callback
	} else {
		base, stop, err := serveResolutions(n, *callbackListen, resolutions)
		if err != nil {
			return fail(1, "trp-send: callback listener: %v", err)
		}
		defer stop()
		inquiry.Callback = base + resolutionPrefix + identifier
	}
	inquiry.Info = &trp.Info{Address: *to, RequestIdentifier: identifier}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := map[string]any{"requestIdentifier": identifier, "callback": inquiry.Callback}
	answer, err := client.Inquiry(ctx, inquiry)
	if err != nil {
		var status *trp.StatusError
		if !errors.As(err, &status) {
			return fail(1, "trp-send: inquiry to %s: %v", *to, err)
		}
		out["error"] = describe(err)
		return printJSON(out)
	}
	out["answer"] = answer
	out["answerHeaders"] = map[string]any{
		"apiVersion": answer.Info.APIVersion, "requestIdentifier": answer.Info.RequestIdentifier,
	}
	if err := answer.Validate(); err != nil {
		out["answerInvalid"] = err.Error()
	}
	decision := answer
	if answer.Approved == nil && answer.Rejected == "" && *callback == "" && *wait > 0 {
		select {
		case got := <-resolutions:
			out["resolution"] = got
			decision = got.Resolution
		case <-time.After(time.Duration(*wait * float64(time.Second))):
			out["resolution"] = nil
		}
	}
	if decision != nil && decision.Approved != nil && (*confirm != "" || *cancelReason != "") {
		confirmation := &trp.Confirmation{
			Info:     &trp.Info{Address: decision.Approved.Callback, RequestIdentifier: identifier},
			TXID:     *confirm,
			Canceled: *cancelReason,
		}
		if err := client.Confirm(ctx, confirmation); err != nil {
			out["confirmation"] = map[string]any{"error": describe(err)}
		} else {
			out["confirmation"] = map[string]any{"delivered": true}
		}
	}
	return printJSON(out)
}

// serveResolutions serves our inquiry callback over the library's mTLS configuration.
func serveResolutions(n *node, listen string, into chan<- received) (string, func(), error) {
	config, err := mtls.Config(n.identity, n.pool)
	if err != nil {
		return "", nil, err
	}
	listener, err := net.Listen("tcp", listen)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(resolutionPrefix, openvasp.APIChecks(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := received{
			APIVersion:        r.Header.Get(openvasp.APIVersionHeader),
			RequestIdentifier: r.Header.Get(openvasp.RequestIdentifierHeader),
		}
		resolution, problem := decodeResolution(r)
		if problem != "" {
			got.Invalid = problem
			into <- got
			http.Error(w, problem, http.StatusBadRequest)
			return
		}
		resolution.Info = openvasp.ParseTRPInfo(r)
		got.Resolution = resolution
		into <- got
		w.WriteHeader(http.StatusNoContent)
	})))
	server := &http.Server{Handler: mux, TLSConfig: config, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(tls.NewListener(listener, config)) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(ctx)
	}
	return "https://" + listener.Addr().String(), stop, nil
}

// decodeResolution reads a callback body strictly into the library's type and validates it.
func decodeResolution(r *http.Request) (*trp.Resolution, string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, openvasp.MaxPayloadSize))
	if err != nil {
		return nil, "could not read the body: " + err.Error()
	}
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	resolution := &trp.Resolution{}
	if err := decoder.Decode(resolution); err != nil {
		return nil, fmt.Sprintf("body %q does not decode as a trp.Resolution: %v", body, err)
	}
	if resolution.Version != "" {
		return nil, "a resolution must not carry version"
	}
	if err := resolution.Validate(); err != nil {
		return nil, err.Error()
	}
	return resolution, ""
}

func printJSON(value any) int {
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(value); err != nil {
		return fail(1, "could not print the result: %v", err)
	}
	return 0
}
