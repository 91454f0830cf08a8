module github.com/travelgate/travelgate/interop

go 1.22

require (
	github.com/google/uuid v1.6.0
	github.com/trisacrypto/trisa v1.7.0
	google.golang.org/grpc v1.65.0
	google.golang.org/protobuf v1.34.2
)

require (
	github.com/bombsimon/tld-validator v1.2.33 // indirect
	github.com/trisacrypto/lei v1.0.0 // indirect
	golang.org/x/crypto v0.25.0 // indirect
	golang.org/x/net v0.27.0 // indirect
	golang.org/x/sys v0.22.0 // indirect
	golang.org/x/text v0.16.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20240722135656-d784300faade // indirect
	software.sslmate.com/src/go-pkcs12 v0.4.0 // indirect
)
