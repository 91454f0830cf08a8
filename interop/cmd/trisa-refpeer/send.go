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
	opened, err := n.exchange(ctx, *to, *serverName, *id, state, payload, *tamper)
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

// exchange does KeyExchange then Transfer with the peer, and opens the reply.
func (n *node) exchange(ctx context.Context, endpoint, serverName, id string, state api.TransferState, payload *api.Payload, tamper string) (map[string]any, error) {
	// The library takes the TLS server name from the host of an endpoint URL.
	creds, err := mtls.ClientCreds("trisa://"+serverName, n.identity, n.pool)
	if err != nil {
		return nil, fmt.Errorf("mTLS: %w", err)
	}
	conn, err := grpc.NewClient(endpoint, creds)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", endpoint, err)
	}
	defer conn.Close()
	client := api.NewTRISANetworkClient(conn)

	ours, err := n.sealing.Proto()
	if err != nil {
		return nil, err
	}
	theirs, err := client.KeyExchange(ctx, ours)
	if err != nil {
		return nil, fmt.Errorf("KeyExchange: %w", err)
	}
	peerKey, err := keys.FromSigningKey(theirs)
	if err != nil {
		return nil, fmt.Errorf("KeyExchange: the peer's key does not parse: %w", err)
	}
	sealed, rejection, err := envelope.SealPayload(payload,
		envelope.WithEnvelopeID(id), envelope.WithTransferState(state), envelope.WithSealingKey(peerKey))
	if rejection != nil || err != nil {
		return nil, fmt.Errorf("could not seal the payload: %v", errors.Join(err, rejectionErr(rejection)))
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
