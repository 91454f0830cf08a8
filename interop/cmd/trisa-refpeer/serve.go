package main

// The beneficiary role: TRISANetwork and TRISAHealth over the reference library's mTLS,
// every envelope opened and sealed by its envelope package, decisions by --policy.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	api "github.com/trisacrypto/trisa/pkg/trisa/api/v1beta1"
	generic "github.com/trisacrypto/trisa/pkg/trisa/data/generic/v1beta1"
	"github.com/trisacrypto/trisa/pkg/trisa/envelope"
	"github.com/trisacrypto/trisa/pkg/trisa/keys"
	"github.com/trisacrypto/trisa/pkg/trisa/mtls"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// repeated collects a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

var policies = map[string]bool{"accept": true, "reject": true, "pending": true, "repair": true}

type server struct {
	api.UnimplementedTRISANetworkServer
	api.UnimplementedTRISAHealthServer

	node      *node
	name      string
	policy    string
	peers     map[string]string // peer CN -> TRISA endpoint, for PENDING callbacks
	delay     time.Duration
	addresses map[string]bool // empty: every address is a customer's

	mu            sync.Mutex
	exchanged     map[string]keys.Key // sealing keys learnt by KeyExchange, by peer CN
	conversations map[string]string   // envelope id -> peer CN of its first envelope
	out           *json.Encoder
	callbacks     sync.WaitGroup
	stopping      chan struct{} // closed on SIGTERM: callbacks not yet due are dropped
}

func serve(args []string) int {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := flags.String("listen", "", "HOST:PORT to serve TRISA on")
	cert := flags.String("cert", "", "certificate chain PEM")
	key := flags.String("key", "", "private key PEM")
	trustPath := flags.String("trust", "", "CA bundle PEM that clients must chain to")
	name := flags.String("name", "", "our common name")
	policy := flags.String("policy", "", "accept|reject|pending|repair")
	after := flags.Float64("callback-after", 1, "seconds before the PENDING callback (and the TRP resolution)")
	trpListen := flags.String("trp-listen", "", "HOST:PORT to also serve TRP on (mTLS, same certificates)")
	trpCustomer := flags.String("trp-customer", "", "\"SURNAME, GIVEN\" of our customer: TRP inquiries for another name are rejected")
	trpHost := flags.String("trp-host", "", "host name for our Travel Address and callbacks (default: the --trp-listen address)")
	trpImmediate := flags.Bool("trp-immediate", false, "TRP decisions in the inquiry's 200 body instead of by callback")
	var peers, addresses repeated
	flags.Var(&peers, "peer", "NAME=HOST:PORT of a peer's TRISA endpoint (repeatable)")
	flags.Var(&addresses, "beneficiary-address", "an address of one of our customers (repeatable)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *listen == "" || *name == "" {
		return fail(2, "serve: --listen and --name are required")
	}
	if !policies[*policy] {
		return fail(2, "serve: --policy must be accept, reject, pending or repair, not %q", *policy)
	}
	if *after < 0 {
		return fail(2, "serve: --callback-after must not be negative")
	}
	n, err := loadNode(*cert, *key, *trustPath)
	if err != nil {
		return fail(2, "serve: %v", err)
	}
	s := &server{
		node: n, name: *name, policy: *policy, peers: map[string]string{},
		delay: time.Duration(*after * float64(time.Second)), addresses: map[string]bool{},
		exchanged: map[string]keys.Key{}, conversations: map[string]string{},
		out: json.NewEncoder(os.Stdout), stopping: make(chan struct{}),
	}
	for _, entry := range peers {
		peerName, endpoint, ok := strings.Cut(entry, "=")
		if !ok || peerName == "" || endpoint == "" {
			return fail(2, "serve: --peer must read NAME=HOST:PORT, not %q", entry)
		}
		s.peers[peerName] = endpoint
	}
	for _, address := range addresses {
		s.addresses[address] = true
	}

	creds, err := mtls.ServerCreds(n.identity, n.pool)
	if err != nil {
		return fail(2, "serve: mTLS: %v", err)
	}
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(1, "serve: %v", err)
	}
	srv := grpc.NewServer(creds)
	api.RegisterTRISANetworkServer(srv, s)
	api.RegisterTRISAHealthServer(srv, s)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		close(s.stopping)
		srv.GracefulStop()
	}()
	listening := map[string]any{"event": "listening", "listen": listener.Addr().String(), "name": s.name, "policy": s.policy}
	if *trpListen != "" {
		travelAddress, stopTRP, err := s.startTRP(*trpListen, *trpHost, *trpCustomer, first(addresses), *trpImmediate)
		if err != nil {
			return fail(2, "serve: %v", err)
		}
		defer stopTRP()
		listening["trpTravelAddress"] = travelAddress
		listening["trpListen"] = *trpListen
	}
	s.record(listening)
	if err := srv.Serve(listener); err != nil {
		return fail(1, "serve: %v", err)
	}
	s.callbacks.Wait()
	return 0
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// record writes one JSON line on stdout.
func (s *server) record(line map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line["time"] = time.Now().UTC().Format(time.RFC3339Nano)
	_ = s.out.Encode(line)
}

func (s *server) Status(ctx context.Context, _ *api.HealthCheck) (*api.ServiceState, error) {
	now := time.Now().UTC()
	return &api.ServiceState{
		Status:    api.ServiceState_HEALTHY,
		NotBefore: now.Add(30 * time.Second).Format(time.RFC3339),
		NotAfter:  now.Add(10 * time.Minute).Format(time.RFC3339),
	}, nil
}

func (s *server) KeyExchange(ctx context.Context, in *api.SigningKey) (*api.SigningKey, error) {
	caller, _, err := peerIdentity(ctx)
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, err.Error())
	}
	key, err := keys.FromSigningKey(in)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "could not parse signing key: %v", err)
	}
	if _, err := key.SealingKey(); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "could not parse signing key: %v", err)
	}
	s.mu.Lock()
	s.exchanged[caller] = key
	s.mu.Unlock()
	s.record(map[string]any{"event": "key_exchange", "peer": caller})
	ours, err := s.node.sealing.Proto()
	if err != nil {
		return nil, status.Error(codes.Internal, "could not marshal our signing key")
	}
	return ours, nil
}

func (s *server) Transfer(ctx context.Context, in *api.SecureEnvelope) (*api.SecureEnvelope, error) {
	caller, certKey, err := peerIdentity(ctx)
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, err.Error())
	}
	return s.handle("Transfer", caller, certKey, in)
}

func (s *server) TransferStream(stream grpc.BidiStreamingServer[api.SecureEnvelope, api.SecureEnvelope]) error {
	caller, certKey, err := peerIdentity(stream.Context())
	if err != nil {
		return status.Error(codes.Unauthenticated, err.Error())
	}
	for {
		in, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err := s.handle("TransferStream", caller, certKey, in)
		if err != nil {
			return err
		}
		if err := stream.Send(out); err != nil {
			return err
		}
	}
}

// handle answers one envelope: open it with the library, decide, seal the reply.
func (s *server) handle(rpc, caller string, certKey keys.Key, in *api.SecureEnvelope) (*api.SecureEnvelope, error) {
	line := map[string]any{
		"event": "envelope", "rpc": rpc, "id": in.Id, "peer": caller,
		"transferState": in.TransferState.String(), "error": nil, "identity": nil,
	}
	reply, err := s.answer(caller, certKey, in, line)
	switch {
	case err != nil:
		line["reply"] = status.Code(err).String()
	case reply.Error != nil && !reply.Error.IsZero():
		line["reply"] = fmt.Sprintf("%s %s", reply.TransferState, reply.Error.Code)
	default:
		line["reply"] = reply.TransferState.String()
	}
	s.record(line)
	return reply, err
}

func (s *server) answer(caller string, certKey keys.Key, in *api.SecureEnvelope, line map[string]any) (*api.SecureEnvelope, error) {
	if rejection, isError := envelope.Check(in); isError && len(in.Payload) == 0 {
		line["error"] = errorJSON(rejection)
		return s.echoError(caller, in, rejection)
	}
	if err := envelope.Validate(in); err != nil {
		return reject(in, badRequest(err)), nil
	}
	payload, rejection, err := envelope.OpenPayload(in, envelope.WithUnsealingKey(s.node.unsealingKey()))
	if rejection != nil {
		return reject(in, rejection), nil
	}
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "could not open secure envelope: %v", err)
	}
	line["identity"] = anyJSON(payload.Identity)
	s.remember(in.Id, caller)

	key := s.sealingKeyFor(caller, certKey)
	switch in.TransferState {
	case api.TransferStateUnspecified, api.TransferStarted, api.TransferReview, api.TransferRepair:
		return s.decide(caller, key, in, payload, line)
	case api.TransferPending:
		return seal(in.Id, api.TransferReview, echo(payload), key)
	default:
		return seal(in.Id, in.TransferState, echo(payload), key)
	}
}

// decide applies --policy to a new (or repaired) transfer.
func (s *server) decide(caller string, key keys.Key, in *api.SecureEnvelope, payload *api.Payload, line map[string]any) (*api.SecureEnvelope, error) {
	transaction := &generic.Transaction{}
	if err := payload.Transaction.UnmarshalTo(transaction); err != nil {
		return reject(in, api.Errorf(api.UnparseableTransaction, "transaction is not a trisa.data.generic.v1beta1.Transaction").WithRetry()), nil
	}
	if len(s.addresses) > 0 && !s.addresses[transaction.Beneficiary] {
		return reject(in, api.Errorf(api.UnkownWalletAddress, "beneficiary address is not one of our customers'")), nil
	}
	switch s.policy {
	case "reject":
		return reject(in, api.Errorf(api.ComplianceCheckFail, "the transfer failed our compliance checks")), nil
	case "repair":
		if in.TransferState != api.TransferReview {
			return reject(in, api.Errorf(api.IncompleteIdentity, "the originator's date and place of birth are required").WithRetry()), nil
		}
	case "pending":
		return s.pend(caller, key, in, payload, transaction, line)
	}
	return seal(in.Id, api.TransferAccepted, echo(payload), key)
}

// pend answers PENDING now and schedules the ACCEPTED callback to the originator.
func (s *server) pend(caller string, key keys.Key, in *api.SecureEnvelope, payload *api.Payload, transaction *generic.Transaction, line map[string]any) (*api.SecureEnvelope, error) {
	now := time.Now().UTC()
	window := &generic.Pending{
		EnvelopeId:     in.Id,
		ReceivedBy:     s.name,
		ReceivedAt:     now.Format(time.RFC3339),
		Message:        "review in progress",
		ReplyNotBefore: now.Add(s.delay).Format(time.RFC3339),
		ReplyNotAfter:  now.Add(24 * time.Hour).Format(time.RFC3339),
		Transaction:    transaction,
	}
	line["pending"] = map[string]string{"replyNotBefore": window.ReplyNotBefore, "replyNotAfter": window.ReplyNotAfter}
	pending, err := anypb.New(window)
	if err != nil {
		return nil, status.Error(codes.Internal, "could not pack the pending message")
	}
	reply := echo(payload)
	accepted := echo(payload)
	reply.Transaction = pending
	out, err := seal(in.Id, api.TransferPending, reply, key)
	if err != nil {
		return nil, err
	}
	s.callbacks.Add(1)
	go func() {
		defer s.callbacks.Done()
		select {
		case <-time.After(s.delay):
			s.callBack(caller, in.Id, accepted)
		case <-s.stopping:
		}
	}()
	return out, nil
}

// callBack sends the later acceptance as a new Transfer to the originator (same id).
func (s *server) callBack(caller, id string, payload *api.Payload) {
	line := map[string]any{"event": "callback", "id": id, "peer": caller}
	defer s.record(line)
	endpoint, ok := s.peers[caller]
	if !ok {
		line["error"] = fmt.Sprintf("no --peer %s=HOST:PORT to call back", caller)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opened, err := s.node.exchange(ctx, endpoint, caller, id, api.TransferAccepted, payload, "")
	if err != nil {
		line["error"] = err.Error()
		return
	}
	line["reply"] = opened
}

func (s *server) remember(id, caller string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conversations[id]; !ok {
		s.conversations[id] = caller
	}
}

func (s *server) known(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.conversations[id]
	return ok
}

func (s *server) sealingKeyFor(caller string, certKey keys.Key) keys.Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key, ok := s.exchanged[caller]; ok {
		return key
	}
	return certKey
}

// echoError answers an incoming error envelope as Envoy does: NOT_FOUND for an unknown
// conversation, else the same error back, PENDING for a repair, REJECTED otherwise.
func (s *server) echoError(caller string, in *api.SecureEnvelope, rejection *api.Error) (*api.SecureEnvelope, error) {
	if err := envelope.Validate(in); err != nil {
		return reject(in, badRequest(err)), nil
	}
	if !s.known(in.Id) {
		return nil, status.Errorf(codes.NotFound, "no transfer with envelope id %s", in.Id)
	}
	out := reject(in, rejection)
	if rejection.Retry {
		out.TransferState = api.TransferPending
	} else {
		out.TransferState = api.TransferRejected
	}
	return out, nil
}

// badRequest is the refusal of a malformed envelope. Envoy words it from the library's
// validation error without format arguments, so retry stays false.
func badRequest(err error) *api.Error {
	return &api.Error{Code: api.BadRequest, Message: err.Error()}
}

// reject builds the library's error-only envelope for the incoming envelope's id.
func reject(in *api.SecureEnvelope, rejection *api.Error) *api.SecureEnvelope {
	wrapped, err := envelope.Wrap(in)
	if err == nil {
		var out *envelope.Envelope
		if out, err = wrapped.Reject(rejection); err == nil {
			return out.Proto()
		}
	}
	panic(fmt.Sprintf("the reference library could not build a rejection: %v", err))
}

// seal encrypts and seals a payload to the peer's key with the library's one-liner.
func seal(id string, state api.TransferState, payload *api.Payload, key keys.Key) (*api.SecureEnvelope, error) {
	out, rejection, err := envelope.SealPayload(payload,
		envelope.WithEnvelopeID(id), envelope.WithTransferState(state), envelope.WithSealingKey(key))
	if rejection != nil {
		return out, nil
	}
	if err != nil {
		return nil, status.Errorf(codes.Internal, "could not seal the reply: %v", err)
	}
	return out, nil
}

// echo is the received payload with our received_at, as a reply carries it.
func echo(payload *api.Payload) *api.Payload {
	out := proto.Clone(payload).(*api.Payload)
	if out.ReceivedAt == "" {
		out.ReceivedAt = time.Now().UTC().Format(time.RFC3339)
	}
	return out
}

func errorJSON(e *api.Error) map[string]any {
	if e == nil {
		return nil
	}
	return map[string]any{"code": e.Code.String(), "message": e.Message, "retry": e.Retry}
}

func anyJSON(message *anypb.Any) json.RawMessage {
	if message == nil {
		return nil
	}
	data, err := protojson.Marshal(message)
	if err != nil {
		quoted, _ := json.Marshal(fmt.Sprintf("unreadable %s: %v", message.TypeUrl, err))
		return quoted
	}
	return data
}
