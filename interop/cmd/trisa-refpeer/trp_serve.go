package main

// The TRP beneficiary role of `serve --trp-listen`: the reference library's OpenVASP
// handlers (openvasp.TransferInquiry, openvasp.TransferConfirmation) behind its TRISA mTLS
// configuration, and its TRP client for the resolution callback. The glue only decides:
// an inquiry is approved when the IVMS101 beneficiary carries our customer's name
// (--trp-customer), rejected otherwise, and the decision goes back in the 200 body
// (--trp-immediate) or, as the library's client does it, POSTed to the inquiry's callback.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trisacrypto/trisa/pkg/ivms101"
	"github.com/trisacrypto/trisa/pkg/openvasp"
	trpclient "github.com/trisacrypto/trisa/pkg/openvasp/client"
	"github.com/trisacrypto/trisa/pkg/openvasp/traddr"
	"github.com/trisacrypto/trisa/pkg/openvasp/trp/v3"
	"github.com/trisacrypto/trisa/pkg/trisa/mtls"
)

const (
	inquiryPrefix      = "/transfers/a/"
	confirmationPrefix = "/confirm/"
)

// trpBeneficiary answers inquiries to the one Travel Address it mints for our customer.
type trpBeneficiary struct {
	server    *server
	client    *trpclient.Client
	base      string // https://host:port of our TRP server, for approval callbacks
	account   string // the deposit address our Travel Address names and approvals carry
	customer  []string
	immediate bool

	mu       sync.Mutex
	approved map[string]bool // request identifiers we approved: their confirmations are welcome
}

// startTRP serves TRP on listen; it returns the Travel Address it minted and a stop func.
// host names our server in the address and callbacks ("": the listen address as bound).
func (s *server) startTRP(listen, host, customer, account string, immediate bool) (string, func(), error) {
	if account == "" {
		return "", nil, errors.New("--trp-listen needs a --beneficiary-address to approve with")
	}
	words := nameWords(customer)
	if len(words) == 0 {
		return "", nil, errors.New("--trp-listen needs --trp-customer \"SURNAME, GIVEN\"")
	}
	config, err := mtls.Config(s.node.identity, s.node.pool)
	if err != nil {
		return "", nil, fmt.Errorf("TRP mTLS: %w", err)
	}
	client, err := trpclient.New(trpclient.WithMTLS(s.node.identity, s.node.pool))
	if err != nil {
		return "", nil, fmt.Errorf("TRP client: %w", err)
	}
	listener, err := net.Listen("tcp", listen)
	if err != nil {
		return "", nil, err
	}
	authority := listener.Addr().String()
	if host != "" {
		authority = net.JoinHostPort(host, fmt.Sprint(listener.Addr().(*net.TCPAddr).Port))
	}
	base := "https://" + authority
	address, err := traddr.Encode(authority + inquiryPrefix + account + "?t=i")
	if err != nil {
		listener.Close()
		return "", nil, fmt.Errorf("minting our travel address (try --trp-host): %w", err)
	}
	b := &trpBeneficiary{
		server: s, client: client, base: base, account: account, customer: words,
		immediate: immediate, approved: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.Handle(inquiryPrefix, openvasp.TransferInquiry(b))
	mux.Handle(confirmationPrefix, openvasp.TransferConfirmation(b))
	httpServer := &http.Server{Handler: mux, TLSConfig: config, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := httpServer.Serve(tls.NewListener(listener, config)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.record(map[string]any{"event": "trp_error", "error": err.Error()})
		}
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpServer.Shutdown(ctx)
	}
	return address, stop, nil
}

// OnInquiry is the library's InquiryHandler: check, decide, answer now or by callback.
func (b *trpBeneficiary) OnInquiry(in *trp.Inquiry) (*trp.Resolution, error) {
	line := map[string]any{
		"event": "trp_inquiry", "requestIdentifier": in.Info.RequestIdentifier,
		"apiVersion": in.Info.APIVersion, "path": in.Info.Address, "amount": in.Amount,
		"callback": in.Callback, "beneficiary": beneficiaryName(in.IVMS101),
	}
	if in.Asset != nil {
		line["asset"] = map[string]string{"dti": in.Asset.DTI, "slip0044": in.Asset.SLIP044.Symbol()}
	}
	target, err := url.Parse(in.Info.Address)
	if err != nil || strings.TrimPrefix(target.Path, inquiryPrefix) != b.account {
		line["answer"] = "404"
		b.server.record(line)
		return nil, &trp.StatusError{Code: http.StatusNotFound, Message: "no travel address of ours has this path"}
	}
	if err := in.Validate(); err != nil {
		line["answer"] = "400 " + err.Error()
		b.server.record(line)
		return nil, &trp.StatusError{Code: http.StatusBadRequest, Message: err.Error()}
	}
	resolution := b.decide(in)
	line["decision"] = decisionName(resolution)
	if b.immediate {
		line["answer"] = "immediate"
		b.server.record(line)
		return resolution, nil
	}
	line["answer"] = "acknowledged"
	b.server.record(line)
	resolution.Info = &trp.Info{Address: in.Callback, RequestIdentifier: in.Info.RequestIdentifier}
	b.server.callbacks.Add(1)
	go b.resolveLater(resolution)
	return nil, nil // the library answers {"version": "3.1.0"}
}

// decide approves an inquiry for our customer, by the IVMS101 beneficiary's name.
func (b *trpBeneficiary) decide(in *trp.Inquiry) *trp.Resolution {
	if !sameWords(nameWords(beneficiaryName(in.IVMS101)), b.customer) {
		return &trp.Resolution{Rejected: "beneficiary name does not match the account holder"}
	}
	b.mu.Lock()
	b.approved[in.Info.RequestIdentifier] = true
	b.mu.Unlock()
	return &trp.Resolution{Approved: &trp.Approval{
		Address:  b.account,
		Callback: b.base + confirmationPrefix + url.PathEscape(in.Info.RequestIdentifier),
	}}
}

// resolveLater POSTs the decision to the originator's callback with the library's client.
func (b *trpBeneficiary) resolveLater(resolution *trp.Resolution) {
	defer b.server.callbacks.Done()
	select {
	case <-time.After(b.server.delay):
	case <-b.server.stopping:
		return
	}
	line := map[string]any{
		"event": "trp_resolution", "requestIdentifier": resolution.Info.RequestIdentifier,
		"callback": resolution.Info.Address, "decision": decisionName(resolution),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.client.Resolve(ctx, resolution); err != nil {
		line["error"] = describe(err)
	} else {
		line["delivered"] = true
	}
	b.server.record(line)
}

// OnConfirmation is the library's ConfirmationHandler (it has validated txid/canceled).
func (b *trpBeneficiary) OnConfirmation(in *trp.Confirmation) error {
	identifier, _ := url.PathUnescape(strings.TrimPrefix(in.Info.Address, confirmationPrefix))
	b.mu.Lock()
	known := b.approved[identifier]
	b.mu.Unlock()
	line := map[string]any{
		"event": "trp_confirmation", "requestIdentifier": in.Info.RequestIdentifier,
		"path": in.Info.Address, "txid": in.TXID, "canceled": in.Canceled,
	}
	if !known {
		line["answer"] = "404"
		b.server.record(line)
		return &trp.StatusError{Code: http.StatusNotFound, Message: "no approval of ours has this callback"}
	}
	line["answer"] = "204"
	b.server.record(line)
	return nil
}

func decisionName(resolution *trp.Resolution) string {
	if resolution.Approved != nil {
		return "approved"
	}
	return "rejected"
}

// beneficiaryName joins the LEGL names of the IVMS101 beneficiaries ("" when none).
func beneficiaryName(identity *ivms101.IdentityPayload) string {
	if identity == nil || identity.Beneficiary == nil {
		return ""
	}
	var parts []string
	for _, person := range identity.Beneficiary.GetBeneficiaryPersons() {
		for _, name := range person.GetNaturalPerson().GetName().GetNameIdentifiers() {
			parts = append(parts, name.GetPrimaryIdentifier(), name.GetSecondaryIdentifier())
		}
		for _, name := range person.GetLegalPerson().GetName().GetNameIdentifiers() {
			parts = append(parts, name.GetLegalPersonName())
		}
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}

// nameWords is a name as a sorted list of lower-case words, so "Surname, Given" and
// "Given Surname" compare equal.
func nameWords(name string) []string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == ' ' || r == ',' })
	sort.Strings(words)
	return words
}

func sameWords(a, b []string) bool {
	return len(a) > 0 && strings.Join(a, " ") == strings.Join(b, " ")
}

// describe renders a TRP client error: the HTTP status and message when there was one.
func describe(err error) map[string]any {
	var status *trp.StatusError
	if errors.As(err, &status) {
		return map[string]any{"code": status.Code, "message": status.Message}
	}
	return map[string]any{"code": 0, "message": err.Error()}
}
