package main

// The originator role: KeyExchange, then one Transfer sealed by the library, and the
// reply opened by the library and printed like `travelgate envelope open`.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"
	_ "github.com/trisacrypto/trisa/pkg/ivms101" // registers the identity types for protojson
	api "github.com/trisacrypto/trisa/pkg/trisa/api/v1beta1"
	_ "github.com/trisacrypto/trisa/pkg/trisa/data/generic/v1beta1" // transaction types
	"github.com/trisacrypto/trisa/pkg/trisa/envelope"
	"github.com/trisacrypto/trisa/pkg/trisa/keys"
	"github.com/trisacrypto/trisa/pkg/trisa/mtls"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
)

// tampers are the defects the library lets a sender introduce after sealing.
var tampers = map[string]func(*api.SecureEnvelope){
	"hmac":       func(e *api.SecureEnvelope) { e.Hmac[0] ^= 0xff },
	"ciphertext": func(e *api.SecureEnvelope) { e.Payload[len(e.Payload)/2] ^= 0xff },
	"key":        func(e *api.SecureEnvelope) { e.EncryptionKey[0] ^= 0xff },
	"algorithm":  func(e *api.SecureEnvelope) { e.EncryptionAlgorithm = "AES128-CBC" },
	"unsealed":   func(e *api.SecureEnvelope) { e.Sealed = false },
}

func send(args []string) int {
	flags := flag.NewFlagSet("send", flag.ContinueOnError)
	to := flags.String("to", "", "HOST:PORT of the peer's TRISA endpoint")
	serverName := flags.String("server-name", "", "the peer's common name")
	cert := flags.String("cert", "", "certificate chain PEM")
	key := flags.String("key", "", "private key PEM")
	trustPath := flags.String("trust", "", "CA bundle PEM the peer must chain to")
	payloadPath := flags.String("payload", "", "trisa.api.v1beta1.Payload as protojson ('-': stdin)")
	stateName := flags.String("state", "STARTED", "transfer_state of the envelope")
	id := flags.String("id", "", "envelope id (default: a new UUID)")
	tamper := flags.String("tamper", "", "damage the sealed envelope: hmac|ciphertext|key|algorithm|unsealed")
	timeout := flags.Float64("timeout", 30, "seconds for the whole exchange")
	stream := flags.Int("stream", 0, "send N envelopes (fresh ids) on one TransferStream instead; prints a JSON array")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *to == "" || *serverName == "" || *payloadPath == "" {
		return fail(2, "send: --to, --server-name and --payload are required")
	}
	state, err := api.ParseTransferState(*stateName)
	if err != nil {
		return fail(2, "send: --state: %v", err)
	}
	if _, ok := tampers[*tamper]; *tamper != "" && !ok {
		return fail(2, "send: --tamper must be one of hmac, ciphertext, key, algorithm, unsealed")
	}
	n, err := loadNode(*cert, *key, *trustPath)
	if err != nil {
		return fail(2, "send: %v", err)
	}
	payload, err := readPayload(*payloadPath)
	if err != nil {
		return fail(2, "send: --payload: %v", err)
	}
	if *id == "" {
		*id = uuid.NewString()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*timeout*float64(time.Second)))
	defer cancel()
	var opened any
	if *stream > 0 {
		opened, err = n.exchangeStream(ctx, *to, *serverName, *stream, state, payload)
	} else {
		opened, err = n.exchange(ctx, *to, *serverName, *id, state, payload, *tamper)
	}
	if err != nil {
		return fail(1, "send: %v", err)
	}
	document, _ := json.MarshalIndent(opened, "", "  ")
	fmt.Println(string(document))
	return 0
}

func readPayload(path string) (*api.Payload, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	payload := &api.Payload{}
	if err := protojson.Unmarshal(data, payload); err != nil {
		return nil, err
	}
	if payload.SentAt == "" {
		payload.SentAt = time.Now().UTC().Format(time.RFC3339)
	}
	return payload, nil
}

// connect dials the peer over the library's mTLS and exchanges keys with it.
func (n *node) connect(ctx context.Context, endpoint, serverName string) (*grpc.ClientConn, api.TRISANetworkClient, keys.Key, error) {
	// The library takes the TLS server name from the host of an endpoint URL.
	creds, err := mtls.ClientCreds("trisa://"+serverName, n.identity, n.pool)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mTLS: %w", err)
	}
	conn, err := grpc.NewClient(endpoint, creds)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("connect %s: %w", endpoint, err)
	}
	client := api.NewTRISANetworkClient(conn)
	ours, err := n.sealing.Proto()
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	theirs, err := client.KeyExchange(ctx, ours)
	if err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("KeyExchange: %w", err)
	}
	peerKey, err := keys.FromSigningKey(theirs)
	if err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("KeyExchange: the peer's key does not parse: %w", err)
	}
	if pks, err := peerKey.PublicKeySignature(); err == nil {
		fmt.Fprintf(os.Stderr, "key exchange with %s: peer key %s\n", serverName, pks)
	}
	return conn, client, peerKey, nil
}

func sealTo(peerKey keys.Key, id string, state api.TransferState, payload *api.Payload) (*api.SecureEnvelope, error) {
	sealed, rejection, err := envelope.SealPayload(payload,
		envelope.WithEnvelopeID(id), envelope.WithTransferState(state), envelope.WithSealingKey(peerKey))
	if rejection != nil || err != nil {
		return nil, fmt.Errorf("could not seal the payload: %v", errors.Join(err, rejectionErr(rejection)))
	}
	return sealed, nil
}

// exchangeStream sends count envelopes on one TransferStream and opens every reply.
func (n *node) exchangeStream(ctx context.Context, endpoint, serverName string, count int, state api.TransferState, payload *api.Payload) ([]map[string]any, error) {
	conn, client, peerKey, err := n.connect(ctx, endpoint, serverName)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stream, err := client.TransferStream(ctx)
	if err != nil {
		return nil, fmt.Errorf("TransferStream: %w", err)
	}
	for i := 0; i < count; i++ {
		sealed, err := sealTo(peerKey, uuid.NewString(), state, payload)
		if err != nil {
			return nil, err
		}
		if err := stream.Send(sealed); err != nil {
			return nil, fmt.Errorf("TransferStream send: %w", err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		return nil, fmt.Errorf("TransferStream close: %w", err)
	}
	replies := make([]map[string]any, 0, count)
	for len(replies) < count {
		reply, err := stream.Recv()
		if err != nil {
			return replies, fmt.Errorf("TransferStream after %d replies: %w", len(replies), err)
		}
		replies = append(replies, openReply(reply, n.unsealingKey()))
	}
	return replies, nil
}

// exchange does KeyExchange then Transfer with the peer, and opens the reply.
func (n *node) exchange(ctx context.Context, endpoint, serverName, id string, state api.TransferState, payload *api.Payload, tamper string) (map[string]any, error) {
	conn, client, peerKey, err := n.connect(ctx, endpoint, serverName)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	sealed, err := sealTo(peerKey, id, state, payload)
	if err != nil {
		return nil, err
	}
	if tamper != "" {
		tampers[tamper](sealed)
	}
	reply, err := client.Transfer(ctx, sealed)
	if err != nil {
		return nil, fmt.Errorf("Transfer: %w", err)
	}
	return openReply(reply, n.unsealingKey()), nil
}

func rejectionErr(rejection *api.Error) error {
	if rejection == nil {
		return nil
	}
	return rejection
}

// openReply renders the reply as `travelgate envelope open` does.
func openReply(reply *api.SecureEnvelope, key any) map[string]any {
	out := map[string]any{"id": reply.Id, "timestamp": reply.Timestamp, "transferState": reply.TransferState.String()}
	if rejection, isError := envelope.Check(reply); isError {
		out["error"] = errorJSON(rejection)
		return out
	}
	payload, rejection, err := envelope.OpenPayload(reply, envelope.WithUnsealingKey(key))
	if rejection != nil || err != nil {
		out["error"] = map[string]any{"code": "UNOPENABLE", "message": fmt.Sprint(errors.Join(err, rejectionErr(rejection))), "retry": false}
		return out
	}
	data, err := protojson.Marshal(payload)
	if err != nil {
		out["error"] = map[string]any{"code": "UNREADABLE", "message": err.Error(), "retry": false}
		return out
	}
	out["payload"] = json.RawMessage(data)
	return out
}
