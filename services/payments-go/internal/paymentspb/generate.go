// Package paymentspb is the Go code generated from services/proto/payments.proto (meshproof.payments.v1).
//
// The generated files are committed; regenerate after a change to the proto with `go generate ./...` in
// services/payments-go. Generated with protoc 3.21.12 (Debian protobuf-compiler), protoc-gen-go v1.36.12
// (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12) and protoc-gen-go-grpc v1.6.2
// (go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2). The proto has no go_package option, so the
// import path is given with M flags.
package paymentspb

//go:generate protoc -I ../../../proto --go_out=. --go_opt=paths=source_relative,Mpayments.proto=meshproof/payments-go/internal/paymentspb --go-grpc_out=. --go-grpc_opt=paths=source_relative,Mpayments.proto=meshproof/payments-go/internal/paymentspb payments.proto
