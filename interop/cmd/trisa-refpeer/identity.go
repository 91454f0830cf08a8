package main

// Loading the node's identity and trust pool with the reference library's trust and keys
// packages, and naming the peer on the other end of a verified mTLS connection.

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/trisacrypto/trisa/pkg/trisa/keys"
	"github.com/trisacrypto/trisa/pkg/trust"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// node is what both roles need: our TLS identity, the pool peers must chain to, and our
// sealing key (the identity certificate's key, as the reference nodes use it).
type node struct {
	identity *trust.Provider
	pool     trust.ProviderPool
	sealing  keys.Key
}

func loadNode(certPath, keyPath, trustPath string) (*node, error) {
	if certPath == "" || keyPath == "" || trustPath == "" {
		return nil, errors.New("--cert, --key and --trust are required")
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("--cert: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("--key: %w", err)
	}
	trustPEM, err := os.ReadFile(trustPath)
	if err != nil {
		return nil, fmt.Errorf("--trust: %w", err)
	}
	identity, err := trust.New(append(append(certPEM, '\n'), keyPEM...))
	if err != nil {
		return nil, fmt.Errorf("--cert/--key: %w", err)
	}
	if !identity.IsPrivate() {
		return nil, errors.New("--key holds no private key")
	}
	authority, err := trust.New(trustPEM)
	if err != nil {
		return nil, fmt.Errorf("--trust: %w", err)
	}
	sealing, err := keys.FromProvider(identity)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	return &node{identity: identity, pool: trust.NewPool(authority), sealing: sealing}, nil
}

// unsealingKey is the private key our envelopes are sealed to.
func (n *node) unsealingKey() any {
	key, err := n.sealing.UnsealingKey()
	if err != nil {
		panic(err) // loadNode checked the provider holds a private key
	}
	return key
}

// peerIdentity names the caller by the common name of its verified leaf certificate and
// returns that certificate's key, the sealing key of last resort.
func peerIdentity(ctx context.Context) (string, keys.Key, error) {
	caller, ok := peer.FromContext(ctx)
	if !ok {
		return "", nil, errors.New("no peer on the call")
	}
	info, ok := caller.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return "", nil, errors.New("no verified client certificate")
	}
	leaf := info.State.VerifiedChains[0][0]
	if leaf.Subject.CommonName == "" {
		return "", nil, errors.New("client certificate has no common name")
	}
	key, err := keys.FromCertificate(leaf)
	if err != nil {
		return "", nil, err
	}
	return leaf.Subject.CommonName, key, nil
}
